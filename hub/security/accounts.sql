-- People's accounts and their sessions (hub/security/users.py, logins.py, sessions.py).

-- name: user_add
INSERT INTO users (login, display_name, role, node_code, password_hash, totp_secret)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (login) DO NOTHING
RETURNING login, display_name, role, node_code, totp_secret IS NOT NULL AS has_totp,
          created_at, disabled_at, locked_until

-- name: user_list
SELECT login, display_name, role, node_code, totp_secret IS NOT NULL AS has_totp,
       created_at, disabled_at, CASE WHEN locked_until > now() THEN locked_until END AS locked_until
FROM users ORDER BY login

-- name: user_disable
-- Disables the account and ends its live sessions in one statement.
WITH disabled AS (
    UPDATE users SET disabled_at = now()
    WHERE login = $1 AND disabled_at IS NULL
    RETURNING login, node_code
), ended AS (
    UPDATE user_sessions s SET ended_at = now()
    FROM disabled d
    WHERE s.login = d.login AND s.ended_at IS NULL
    RETURNING s.token_sha256
)
SELECT node_code, (SELECT count(*) FROM ended) AS sessions_ended FROM disabled

-- name: user_credentials
-- What a login attempt is decided on; ``locked`` by the database's clock.
SELECT login, role, node_code, password_hash, totp_secret, totp_last_step,
       disabled_at IS NOT NULL AS disabled,
       coalesce(locked_until > now(), false) AS locked, locked_until
FROM users WHERE login = $1

-- name: user_login_failed
-- One more failure; the one that reaches $2 in a row locks the account for $3 seconds
-- (and starts the count afresh for when the lock ends).
UPDATE users SET
    failed_attempts = CASE WHEN failed_attempts + 1 >= $2 THEN 0 ELSE failed_attempts + 1 END,
    locked_until = CASE WHEN failed_attempts + 1 >= $2
                        THEN now() + make_interval(secs => $3) ELSE locked_until END
WHERE login = $1
RETURNING failed_attempts = 0 AS locked, locked_until

-- name: user_login_succeeded
-- Clears the failures, stores a stronger hash if one was made, and takes the TOTP step
-- $3 unless it (or a later one) was taken before: a code works once.
UPDATE users SET
    failed_attempts = 0,
    locked_until = NULL,
    password_hash = coalesce($2, password_hash),
    totp_last_step = coalesce($3, totp_last_step)
WHERE login = $1 AND ($3::bigint IS NULL OR totp_last_step IS NULL OR totp_last_step < $3)
RETURNING true

-- name: session_start
INSERT INTO user_sessions (token_sha256, login, csrf_token, expires_at)
VALUES ($1, $2, $3, now() + make_interval(secs => $4))

-- name: session_lookup
-- A live session of an enabled account: a disabled account's sessions stop at once.
SELECT u.login, u.display_name, u.role, u.node_code, s.csrf_token
FROM user_sessions s JOIN users u ON u.login = s.login
WHERE s.token_sha256 = $1 AND s.ended_at IS NULL AND s.expires_at > now()
  AND u.disabled_at IS NULL

-- name: session_end
UPDATE user_sessions s SET ended_at = now()
FROM users u
WHERE s.token_sha256 = $1 AND s.ended_at IS NULL AND u.login = s.login
RETURNING s.login, u.node_code

-- name: user_set_password
-- A new password: clears failures and lock-out; live sessions end.
WITH changed AS (
    UPDATE users SET password_hash = $2, failed_attempts = 0, locked_until = NULL
    WHERE login = $1
    RETURNING login, node_code
), ended AS (
    UPDATE user_sessions s SET ended_at = now()
    FROM changed c
    WHERE s.login = c.login AND s.ended_at IS NULL
)
SELECT node_code FROM changed
