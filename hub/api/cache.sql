-- The response cache (hub/api/cache.py).

-- name: cache_generations
-- What changes without an outbox row, for the change feed to notice: the pages
-- imported so far (a node's initial import; one audit entry each) and when the
-- institutions directory last changed (cached answers name institutions). Archived
-- audit entries count too (audit_segments.imports): archiving must not move it.
SELECT (SELECT count(*) FROM audit_log WHERE action = 'IMPORT')
       + (SELECT coalesce(sum(imports), 0) FROM audit_segments) AS imports,
       (SELECT max(changed_at) FROM institutions) AS directory
