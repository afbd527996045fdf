-- 转人工 (#19): conversations the assistant hands to 热线坐席, their
-- messages (also the log the live pages follow), and canned answers.

CREATE TABLE assistant_chats (
    id {{id}},
    session_id TEXT NOT NULL REFERENCES assistant_sessions(id),
    citizen_id BIGINT,
    -- waiting, active, closed
    state TEXT NOT NULL DEFAULT 'waiting',
    agent_id BIGINT REFERENCES staff_users(id),
    -- The question asked last before the hand-off (shown in the queue).
    question TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    accepted_at BIGINT,
    closed_at BIGINT
);
CREATE INDEX assistant_chats_session ON assistant_chats (session_id, id);
CREATE INDEX assistant_chats_state ON assistant_chats (state, id);

CREATE TABLE assistant_chat_messages (
    id {{id}},
    chat_id BIGINT NOT NULL REFERENCES assistant_chats(id),
    -- citizen, agent, system (body = the event's code)
    sender TEXT NOT NULL,
    body TEXT NOT NULL,
    agent_id BIGINT,
    at BIGINT NOT NULL
);
CREATE INDEX assistant_chat_messages_chat ON assistant_chat_messages (chat_id, id);

CREATE TABLE assistant_canned (
    id {{id}},
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

INSERT INTO assistant_canned (title, body, active, updated_by, updated_at) VALUES
  ('问候', '您好，我是政务服务热线坐席，很高兴为您服务。请问有什么可以帮您？', 1, 'system', 0),
  ('请稍候', '请稍候，我正在为您查询相关规定。', 1, 'system', 0),
  ('网上办理', '这项业务可以在本网站“办事服务”中在线申请，提交后可在“我的办件”查看进度。', 1, 'system', 0),
  ('转留言', '您的问题需要相关部门进一步核实，建议您通过“我要写信”留言咨询，我们会在规定时限内答复。', 1, 'system', 0),
  ('结束语', '感谢您的咨询，如还有其他问题欢迎随时联系我们。祝您生活愉快！', 1, 'system', 0);
