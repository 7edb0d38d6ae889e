-- name: lock_migrations
SELECT pg_advisory_lock($1)

-- name: unlock_migrations
SELECT pg_advisory_unlock($1)

-- name: create_migrations_table
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)

-- name: applied_migrations
SELECT version FROM schema_migrations ORDER BY version

-- name: record_migration
INSERT INTO schema_migrations (version, name) VALUES ($1, $2)

-- name: ready
SELECT count(*) FROM schema_migrations
