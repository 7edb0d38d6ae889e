-- People who log in to the hub's web pages (hub/security/users.py): analysts and
-- coordinators, not service clients. Their role maps onto the clients' scopes.
CREATE TABLE users (
    login           text PRIMARY KEY CHECK (login ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
    display_name    text NOT NULL,
    role            text NOT NULL CHECK (role IN ('ministry', 'province-admin', 'regency')),
    node_code       text REFERENCES nodes (code),
    password_hash   text NOT NULL,           -- argon2id; the password itself is never stored
    totp_secret     text,                    -- base32; NULL: no second factor
    totp_last_step  bigint,                  -- the last accepted TOTP time step (no replays)
    disabled_at     timestamptz,
    failed_attempts integer NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'regency') = (node_code IS NOT NULL))
);

-- Server-side sessions: the cookie holds a random token, the table only its SHA-256,
-- so ending a session (logout, a disabled account) takes effect on the next request.
CREATE TABLE user_sessions (
    token_sha256 bytea PRIMARY KEY,
    login        text NOT NULL REFERENCES users (login),
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    ended_at     timestamptz
);
CREATE INDEX user_sessions_login ON user_sessions (login) WHERE ended_at IS NULL;
