-- Logins are throttled per account and source address, and per source address
-- across accounts, with growing delays (hub/security/logins.py), instead of locking
-- the account: a lock anyone could set by guessing kept the real user out too.

-- Failed logins, counted per (source, login) and per source across logins ('' as
-- the login). `failures` counts attempts since the count began (an attempt counts as
-- one until it succeeds: a success from that address clears its row and gives the
-- address's count its attempt back); `last_at` is the latest. An attempt is let
-- through only once `last_at + login_delay(failures, ...)` has passed; a count whose
-- latest failure is older than the window (hub/security/logins.py) starts afresh.
CREATE TABLE login_throttle (
    source   text NOT NULL,
    login    text NOT NULL,
    failures integer NOT NULL CHECK (failures >= 0),
    last_at  timestamptz NOT NULL,
    PRIMARY KEY (source, login)
);
-- Retention prunes rows whose latest failure is past its window.
CREATE INDEX login_throttle_last_at ON login_throttle (last_at);

-- How long after the latest of `failures` failures the next attempt waits: nothing
-- below `after`, then `base` seconds doubling with each failure, at most `cap`.
CREATE FUNCTION login_delay(failures integer, after integer, base double precision,
                            cap double precision)
RETURNS interval LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN failures < after THEN interval '0'
                ELSE make_interval(secs => least(cap, base * 2 ^ least(failures - after, 30)))
           END
$$;

-- The account-wide lock-out is gone.
ALTER TABLE users DROP COLUMN failed_attempts, DROP COLUMN locked_until;

-- Ended and expired sessions are pruned by their end.
CREATE INDEX user_sessions_over ON user_sessions (least(ended_at, expires_at));
