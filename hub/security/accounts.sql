-- People's accounts and their sessions (hub/security/users.py, logins.py, sessions.py).

-- name: user_add
INSERT INTO users (login, display_name, role, node_code, password_hash, totp_secret)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (login) DO NOTHING
RETURNING login, display_name, role, node_code, totp_secret IS NOT NULL AS has_totp,
          created_at, disabled_at

-- name: user_list
SELECT login, display_name, role, node_code, totp_secret IS NOT NULL AS has_totp,
       created_at, disabled_at
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
-- What a login attempt is decided on.
SELECT login, role, node_code, password_hash, totp_secret, totp_last_step,
       disabled_at IS NOT NULL AS disabled
FROM users WHERE login = $1

-- name: user_login_succeeded
-- Stores a stronger hash if one was made, and takes the TOTP step $3 unless it (or a
-- later one) was taken before: a code works once.
UPDATE users SET
    password_hash = coalesce($2, password_hash),
    totp_last_step = coalesce($3, totp_last_step)
WHERE login = $1 AND ($3::bigint IS NULL OR totp_last_step IS NULL OR totp_last_step < $3)
RETURNING true

-- name: login_throttle_open
-- The two counts an attempt from $1 for $2 takes its place in (the address's across
-- logins, as login ''), made if missing; run before login_throttle_take, in its
-- transaction.
INSERT INTO login_throttle (source, login, failures, last_at)
VALUES ($1, '', 0, now()), ($1, $2, 0, now())
ON CONFLICT (source, login) DO NOTHING

-- name: login_throttle_take
-- An attempt from $1 for $2 counts in both counts unless either makes it wait: the
-- address's across logins (delays from $4 failures on) and its own for this login
-- (from $3 on); $5 the first delay and $6 the longest, in seconds; a count whose
-- latest failure is older than $7 seconds starts afresh. Both rows are locked first,
-- so attempts from one address are counted one after another, never let through
-- together. `taken`: the attempt may go on; `until`: when the next may come.
WITH counts AS (
    SELECT login, failures, last_at,
           last_at < now() - make_interval(secs => $7) AS stale,
           CASE WHEN login = '' THEN $4::integer ELSE $3::integer END AS after
    FROM login_throttle
    WHERE source = $1 AND login IN ('', $2)
    ORDER BY login
    FOR UPDATE
), wait AS (
    SELECT max(last_at + login_delay(failures, after, $5, $6)) FILTER (WHERE NOT stale)
           AS until
    FROM counts
), taken AS (
    UPDATE login_throttle t
    SET failures = CASE WHEN c.stale THEN 1 ELSE t.failures + 1 END, last_at = now()
    FROM counts c, wait w
    WHERE t.source = $1 AND t.login = c.login AND (w.until IS NULL OR w.until <= now())
    RETURNING t.login, t.failures
)
SELECT EXISTS (SELECT 1 FROM taken) AS taken,
       (SELECT failures FROM taken WHERE login = $2) AS failures,
       (SELECT until FROM wait) AS until

-- name: login_throttle_cleared
-- A login from $1 for $2 succeeded: that pair's count goes, and the address's count
-- across logins gets the attempt back (it had counted it as a failure in advance).
WITH pair AS (
    DELETE FROM login_throttle WHERE source = $1 AND login = $2
)
UPDATE login_throttle SET failures = greatest(failures - 1, 0)
WHERE source = $1 AND login = ''

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
-- A new password: live sessions end.
WITH changed AS (
    UPDATE users SET password_hash = $2
    WHERE login = $1
    RETURNING login, node_code
), ended AS (
    UPDATE user_sessions s SET ended_at = now()
    FROM changed c
    WHERE s.login = c.login AND s.ended_at IS NULL
)
SELECT node_code FROM changed

-- name: retention_sessions
-- Retention (hub/store/retention.py, as retention.sql's): sessions that ended (a
-- logout, a disabled account, a new password) or expired more than $1 days ago, $2 at
-- most; NULL when another process holds the table.
WITH lock AS (
    SELECT pg_try_advisory_xact_lock(1598570243, 5) AS held
), doomed AS (
    SELECT s.token_sha256 FROM user_sessions s, lock l
    WHERE l.held AND least(s.ended_at, s.expires_at) < now() - make_interval(days => $1)
    ORDER BY least(s.ended_at, s.expires_at)
    LIMIT $2
), gone AS (
    DELETE FROM user_sessions s USING doomed d
    WHERE s.token_sha256 = d.token_sha256 RETURNING 1
)
SELECT CASE WHEN (SELECT held FROM lock) THEN count(*) END FROM gone

-- name: retention_login_throttle
-- Login counts whose latest failure is more than $1 days old (a count starts afresh a
-- day after it anyway, and no wait lasts that long). The time is checked again on
-- delete, so a count an attempt has just moved stays.
WITH lock AS (
    SELECT pg_try_advisory_xact_lock(1598570243, 6) AS held
), doomed AS (
    SELECT t.source, t.login FROM login_throttle t, lock l
    WHERE l.held AND t.last_at < now() - make_interval(days => $1)
    ORDER BY t.last_at
    LIMIT $2
), gone AS (
    DELETE FROM login_throttle t USING doomed d
    WHERE t.source = d.source AND t.login = d.login
      AND t.last_at < now() - make_interval(days => $1)
    RETURNING 1
)
SELECT CASE WHEN (SELECT held FROM lock) THEN count(*) END FROM gone
