-- #19: synonyms learned from the search log — a query whose opened results
-- are mostly one item suggests the query as a name of that item — applied
-- only when staff accept them. Each decision is kept so a suggestion staff
-- turned down does not come back.
CREATE TABLE learned_synonym_reviews (
    query TEXT NOT NULL,
    -- The opened result, e.g. /services/500000-GA-HZ-0001-03
    target TEXT NOT NULL,
    -- 'accepted' or 'rejected'
    decision TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at BIGINT NOT NULL,
    PRIMARY KEY (query, target)
);
