-- The demo's sandbox: its own database beside the hub's (demo.SANDBOX_DATABASE).

-- name: sandbox_database_exists
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'sp4n_sandbox')

-- name: create_sandbox_database
CREATE DATABASE sp4n_sandbox
