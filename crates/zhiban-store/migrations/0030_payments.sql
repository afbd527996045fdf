-- 统一支付: payment orders for a case's fees, paid through a gateway
-- (PaymentGateway); amounts in fen (分). A case's order is assessed by
-- staff (核定) or waived with a reason (减免, state `waived`); at most one
-- order of a case is open at a time. trade_no is the gateway's own number,
-- unique, so a replayed callback finds the order it already paid.
-- 交通违法处罚决定书: fines looked up by decision number and plate, paid
-- like a fee; a fine unpaid 15 days after the decision carries 加处罚款
-- (3% a day, at most the fine itself, 行政处罚法 第七十二条).
CREATE TABLE penalty_notices (
    id {{id}},
    decision_no TEXT NOT NULL UNIQUE,
    plate TEXT NOT NULL,
    party TEXT NOT NULL,
    violation TEXT NOT NULL,
    place TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    decided_on TEXT NOT NULL,
    fine_cents BIGINT NOT NULL,
    points BIGINT NOT NULL DEFAULT 0,
    unit_id BIGINT NOT NULL REFERENCES departments(id),
    paid_at BIGINT
);

CREATE TABLE payment_orders (
    id {{id}},
    number TEXT NOT NULL UNIQUE,
    case_id BIGINT REFERENCES cases(id),
    notice_id BIGINT REFERENCES penalty_notices(id),
    citizen_id BIGINT REFERENCES citizens(id) ON DELETE SET NULL,
    unit_id BIGINT NOT NULL REFERENCES departments(id),
    subject TEXT NOT NULL,
    lines TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    state TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    gateway TEXT NOT NULL DEFAULT '',
    trade_no TEXT UNIQUE,
    pay_url TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    paid_at BIGINT,
    refunded_cents BIGINT NOT NULL DEFAULT 0,
    revision BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX payment_orders_case ON payment_orders(case_id);
CREATE INDEX payment_orders_citizen ON payment_orders(citizen_id, created_at);
CREATE INDEX payment_orders_state ON payment_orders(state, expires_at);

-- Everything that happened to an order, callbacks included (a duplicate,
-- a bad signature, an amount that does not match).
CREATE TABLE payment_events (
    id {{id}},
    order_id BIGINT NOT NULL REFERENCES payment_orders(id),
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX payment_events_order ON payment_events(order_id, id);

-- Refunds: requested by one finance officer, approved by another, then
-- sent to the gateway.
CREATE TABLE payment_refunds (
    id {{id}},
    number TEXT NOT NULL UNIQUE,
    order_id BIGINT NOT NULL REFERENCES payment_orders(id),
    amount_cents BIGINT NOT NULL,
    reason TEXT NOT NULL,
    state TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    decided_by TEXT NOT NULL DEFAULT '',
    decided_at BIGINT,
    decision_note TEXT NOT NULL DEFAULT '',
    done_at BIGINT
);
CREATE INDEX payment_refunds_order ON payment_refunds(order_id);

-- 电子票据: one per paid order, signed (SM2) by the portal's receipt key.
CREATE TABLE payment_receipts (
    id {{id}},
    number TEXT NOT NULL UNIQUE,
    order_id BIGINT NOT NULL UNIQUE REFERENCES payment_orders(id),
    payer TEXT NOT NULL,
    body TEXT NOT NULL,
    signature TEXT NOT NULL,
    key_id TEXT NOT NULL,
    issued_at BIGINT NOT NULL
);

-- Daily reconciliation against the gateway's statement file: each run and
-- what did not match.
CREATE TABLE reconciliations (
    id {{id}},
    day TEXT NOT NULL,
    gateway TEXT NOT NULL,
    ran_at BIGINT NOT NULL,
    ran_by TEXT NOT NULL,
    statement_rows BIGINT NOT NULL,
    matched BIGINT NOT NULL,
    mismatched BIGINT NOT NULL
);
CREATE INDEX reconciliations_day ON reconciliations(day, id);

CREATE TABLE reconciliation_items (
    id {{id}},
    reconciliation_id BIGINT NOT NULL REFERENCES reconciliations(id),
    kind TEXT NOT NULL,
    trade_no TEXT NOT NULL DEFAULT '',
    order_number TEXT NOT NULL DEFAULT '',
    ours_cents BIGINT,
    theirs_cents BIGINT,
    resolved_by TEXT NOT NULL DEFAULT '',
    resolved_note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX reconciliation_items_run ON reconciliation_items(reconciliation_id);

-- The development gateway's own books (a stand-in for a bank's, named as
-- such): what it was asked to collect, what it collected and refunded.
CREATE TABLE dev_gateway_ledger (
    id {{id}},
    trade_no TEXT NOT NULL UNIQUE,
    order_number TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    state TEXT NOT NULL,
    refunded_cents BIGINT NOT NULL DEFAULT 0,
    notify_url TEXT NOT NULL,
    return_url TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    paid_at BIGINT
);

CREATE TABLE dev_gateway_refunds (
    id {{id}},
    refund_no TEXT NOT NULL UNIQUE,
    trade_no TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    at BIGINT NOT NULL
);

INSERT INTO roles (code, name, description, builtin) VALUES ('finance', '财务人员', '查看缴费订单，审核退款，处理每日对账差异', 1);
INSERT INTO role_permissions (role_id, permission) SELECT id, 'payments.finance' FROM roles WHERE code = 'finance';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'catalog.view' FROM roles WHERE code = 'finance';
INSERT INTO role_permissions (role_id, permission) SELECT id, 'payments.finance' FROM roles WHERE code = 'system_admin';
