-- The response cache asks every 0.2 s whether a node's initial import wrote a page
-- (it writes no outbox rows, only one audit entry per page): a count over this.
CREATE INDEX audit_log_imports ON audit_log (id) WHERE action = 'IMPORT';
