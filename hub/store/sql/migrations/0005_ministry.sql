-- The ministry view: a working-day calendar, one row of SLA facts per report, and
-- monthly roll-ups of those facts, kept current by a trigger on report_history.
--
-- Every change the write path makes appends a report_history row in the same
-- transaction, and the seed COPYs report_history after reports, so one
-- statement-level trigger there (transition table, set-based) keeps the facts and
-- the roll-ups current and atomic with the change, for single writes and bulk loads.
-- Definitions (stages, due days, working days taken) are in hub/ministry/__init__.py.

-- One row per WIB calendar date, 2000-01-01 .. 2100-12-31. Monday to Friday is
-- working until the calendar sync (hub.ministry.calendar) marks national
-- holidays, cuti bersama and overrides.
CREATE TABLE ministry_calendar (
    day     date PRIMARY KEY,
    working boolean NOT NULL,
    wdi     integer NOT NULL,   -- working days in [2000-01-01, day]: counting by subtraction
    reason  text                -- why a weekday is not working (or a weekend day is)
);
-- Not unique: a renumbering passes through transient duplicates.
CREATE INDEX ministry_calendar_working ON ministry_calendar (wdi) WHERE working;

INSERT INTO ministry_calendar (day, working, wdi)
SELECT d::date, extract(isodow FROM d) < 6, 0
FROM generate_series('2000-01-01'::date, '2100-12-31'::date, interval '1 day') AS d;

CREATE FUNCTION ministry_calendar_renumber() RETURNS void LANGUAGE sql AS $$
    UPDATE ministry_calendar c SET wdi = n.wdi
    FROM (SELECT day, (count(*) FILTER (WHERE working) OVER (ORDER BY day))::int AS wdi
          FROM ministry_calendar) AS n
    WHERE c.day = n.day AND c.wdi <> n.wdi
$$;
SELECT ministry_calendar_renumber();

-- Regional holidays and decree changes; they win over the holidays package.
CREATE TABLE ministry_calendar_overrides (
    day        date PRIMARY KEY CHECK (day BETWEEN '2000-01-01' AND '2100-12-31'),
    working    boolean NOT NULL,
    reason     text NOT NULL CHECK (length(reason) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Stage status: NOT_STARTED, OPEN (running; overdue once its due day has passed),
-- MET, LATE (ended after its due day), NOT_APPLICABLE (can no longer end: archived
-- first), NO_RULE (the report's rule version has no rule for the stage).
CREATE TABLE ministry_facts (
    report_id                   uuid PRIMARY KEY,   -- derived from reports: no foreign key
    sub_day                     date NOT NULL,        -- WIB date of submission
    month                       date NOT NULL,        -- first day of sub_day's month
    region_code                 text NOT NULL,
    institution_code            text NOT NULL,        -- the current institution
    kind                        text NOT NULL,
    complaint_sub_kind          text,
    topic_id                    integer NOT NULL,
    state                       text NOT NULL,
    anonymous                   boolean NOT NULL,
    confidential                boolean NOT NULL,
    rule_version                text NOT NULL,
    version                     integer NOT NULL,
    verified                    boolean NOT NULL,
    disposed                    boolean NOT NULL,
    followed_up                 boolean NOT NULL,
    completed                   boolean NOT NULL,
    auto_closed                 boolean NOT NULL,
    redispositions              integer NOT NULL,
    verify_started_at           timestamptz,
    verify_ended_at             timestamptz,
    verify_limit                integer,
    verify_due_day              date,
    verify_days                 integer,
    verify_status               text NOT NULL,
    first_follow_up_started_at  timestamptz,
    first_follow_up_ended_at    timestamptz,
    first_follow_up_limit       integer,
    first_follow_up_due_day     date,
    first_follow_up_days        integer,
    first_follow_up_status      text NOT NULL,
    completion_started_at       timestamptz,
    completion_ended_at         timestamptz,
    completion_limit            integer,
    completion_due_day          date,
    completion_days             integer,
    completion_status           text NOT NULL,
    auto_close_started_at       timestamptz,
    auto_close_limit            integer,
    auto_close_due_day          date,
    auto_close_status           text NOT NULL
);
CREATE INDEX ministry_facts_day ON ministry_facts (sub_day);
CREATE INDEX ministry_facts_auto_close ON ministry_facts (auto_close_due_day, report_id)
    WHERE auto_close_status = 'OPEN';

-- Roll-ups: per month of submission and per grouping (dim, key). dim ALL has the
-- key '' and serves totals and grouping by month.
CREATE TABLE ministry_counts (
    month          date NOT NULL,
    dim            text NOT NULL,
    key            text NOT NULL,
    received       integer NOT NULL,
    anonymous      integer NOT NULL,
    confidential   integer NOT NULL,
    verified       integer NOT NULL,
    disposed       integer NOT NULL,
    followed_up    integer NOT NULL,
    completed      integer NOT NULL,
    auto_closed    integer NOT NULL,
    archived       integer NOT NULL,
    redisposed     integer NOT NULL,
    redispositions integer NOT NULL,
    PRIMARY KEY (dim, month, key)
);

-- Ended stages as a histogram of working days taken, so medians and p90s are exact.
CREATE TABLE ministry_stage_ended (
    month date NOT NULL,
    dim   text NOT NULL,
    key   text NOT NULL,
    stage text NOT NULL,
    days  integer NOT NULL,
    met   boolean NOT NULL,
    n     integer NOT NULL,
    PRIMARY KEY (dim, month, key, stage, days, met)
);

-- Running stages by due day: whether one is overdue depends on the day it is asked.
CREATE TABLE ministry_stage_open (
    month   date NOT NULL,
    dim     text NOT NULL,
    key     text NOT NULL,
    stage   text NOT NULL,
    due_day date NOT NULL,
    n       integer NOT NULL,
    PRIMARY KEY (dim, month, key, stage, due_day)
);

-- The groupings one report counts in.
CREATE FUNCTION ministry_dims(
    region text, institution text, kind text, topic integer, state text, rule_version text
) RETURNS TABLE (dim text, key text) LANGUAGE sql IMMUTABLE AS $$
    VALUES ('ALL', ''), ('REGION', region), ('INSTITUTION', institution), ('KIND', kind),
           ('TOPIC', topic::text), ('STATE', state), ('RULE_VERSION', rule_version)
$$;

-- Working days taken from a start day to an end day (see hub/ministry/__init__.py):
-- 0 while no working day follows the start day; else the number of the working day
-- the end falls on, an end on a non-working day counting as the next working day.
CREATE FUNCTION ministry_days(start_wdi integer, end_wdi integer, end_working boolean)
RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN end_wdi = start_wdi THEN 0
                ELSE end_wdi - start_wdi + (NOT end_working)::integer END
$$;

CREATE FUNCTION ministry_status(lim integer, days integer, ended boolean, live boolean)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN lim IS NULL THEN 'NO_RULE'
                WHEN ended THEN CASE WHEN days <= lim THEN 'MET' ELSE 'LATE' END
                WHEN live THEN 'OPEN'
                ELSE 'NOT_APPLICABLE' END
$$;

-- The most specific rule of each stage per rule version and kind/sub-kind ('' for
-- none), as schema.sla.rule_for picks it.
CREATE VIEW ministry_rule_limits AS
SELECT v.version, k.kind, k.sub_kind, l.stage, l.working_days
FROM (SELECT DISTINCT version FROM sla_rules) AS v
CROSS JOIN (VALUES ('ASPIRATION', ''), ('INFORMATION_REQUEST', ''),
                   ('COMPLAINT', 'SUPERVISORY'), ('COMPLAINT', 'NON_SUPERVISORY'))
    AS k (kind, sub_kind)
CROSS JOIN LATERAL (
    SELECT DISTINCT ON (s.stage) s.stage, s.working_days
    FROM sla_rules s
    WHERE s.version = v.version
      AND (s.kind IS NULL OR s.kind = k.kind)
      AND (s.sub_kind IS NULL OR s.sub_kind = k.sub_kind)
    ORDER BY s.stage, s.kind IS NOT NULL DESC, s.sub_kind IS NOT NULL DESC
) AS l;

-- The facts of every report, computed from reports, report_history, the rule table
-- and the calendar; filter it by report_id to compute a few. A report without
-- history yet (mid-seed) has no row.
CREATE VIEW ministry_fact_source AS
SELECT t.id AS report_id, t.sub_day, date_trunc('month', t.sub_day)::date AS month,
       t.region_code, t.institution_code, t.kind, t.complaint_sub_kind, t.topic_id, t.state,
       t.anonymous, t.confidential, t.sla_rule_version AS rule_version, t.version,
       t.verified_at IS NOT NULL AS verified, t.disposed_at IS NOT NULL AS disposed,
       t.followed_up_at IS NOT NULL AS followed_up, t.completed_at IS NOT NULL AS completed,
       t.auto_closed, t.redispositions,
       t.submitted_at AS verify_started_at, t.verified_at AS verify_ended_at,
       t.v_lim AS verify_limit, vd.day AS verify_due_day, t.v_days AS verify_days,
       ministry_status(t.v_lim, t.v_days, t.verified_at IS NOT NULL, t.state <> 'ARCHIVED')
           AS verify_status,
       t.disposed_at AS first_follow_up_started_at,
       t.followed_up_at AS first_follow_up_ended_at,
       t.f_lim AS first_follow_up_limit, fd.day AS first_follow_up_due_day,
       t.f_days AS first_follow_up_days,
       CASE WHEN t.disposed_at IS NULL
            THEN CASE WHEN t.state = 'ARCHIVED' THEN 'NOT_APPLICABLE' ELSE 'NOT_STARTED' END
            ELSE ministry_status(t.f_lim, t.f_days, t.followed_up_at IS NOT NULL, true)
       END AS first_follow_up_status,
       t.submitted_at AS completion_started_at, t.completed_at AS completion_ended_at,
       t.c_lim AS completion_limit, cd.day AS completion_due_day, t.c_days AS completion_days,
       ministry_status(t.c_lim, t.c_days, t.completed_at IS NOT NULL, t.state <> 'ARCHIVED')
           AS completion_status,
       t.quiet_at AS auto_close_started_at, t.a_lim AS auto_close_limit,
       ad.day AS auto_close_due_day,
       CASE WHEN t.quiet_at IS NULL THEN 'NOT_APPLICABLE'
            WHEN t.a_lim IS NULL THEN 'NO_RULE' ELSE 'OPEN' END AS auto_close_status
FROM (
    SELECT r.*, h.*, cs.day AS sub_day, cs.wdi AS s_wdi, fs.wdi AS fs_wdi, qs.wdi AS qs_wdi,
           CASE WHEN h.verified_at IS NOT NULL
                THEN ministry_days(cs.wdi, ve.wdi, ve.working) END AS v_days,
           CASE WHEN h.followed_up_at IS NOT NULL
                THEN ministry_days(fs.wdi, fe.wdi, fe.working) END AS f_days,
           CASE WHEN h.completed_at IS NOT NULL
                THEN ministry_days(cs.wdi, ce.wdi, ce.working) END AS c_days,
           lv.working_days AS v_lim, lf.working_days AS f_lim, lc.working_days AS c_lim,
           la.working_days AS a_lim
    FROM reports r
    CROSS JOIN LATERAL (
        SELECT min(x.at) FILTER (WHERE x.to_state IN ('VERIFIED', 'DISPOSED')) AS verified_at,
               min(x.at) FILTER (WHERE x.to_state = 'DISPOSED') AS disposed_at,
               min(x.at) FILTER (WHERE x.to_state = 'IN_FOLLOW_UP') AS followed_up_at,
               min(x.at) FILTER (WHERE x.to_state = 'COMPLETED') AS completed_at,
               coalesce(bool_or(x.verb = 'COMPLETE' AND x.actor_role = 'SYSTEM'), false)
                   AS auto_closed,
               greatest(count(*) FILTER (WHERE x.verb = 'DISPOSE') - 1, 0)::integer
                   AS redispositions,
               -- Quiet since a follow-up: the last change was a follow-up.
               CASE WHEN r.state = 'IN_FOLLOW_UP'
                     AND max(x.version) FILTER (WHERE x.verb = 'FOLLOW_UP') = max(x.version)
                    THEN max(x.at) FILTER (WHERE x.verb = 'FOLLOW_UP') END AS quiet_at,
               count(*) AS events
        FROM report_history x
        WHERE x.report_id = r.id
    ) AS h
    LEFT JOIN ministry_rule_limits lv
           ON lv.version = r.sla_rule_version AND lv.kind = r.kind
          AND lv.sub_kind = coalesce(r.complaint_sub_kind, '') AND lv.stage = 'VERIFY'
    LEFT JOIN ministry_rule_limits lf
           ON lf.version = r.sla_rule_version AND lf.kind = r.kind
          AND lf.sub_kind = coalesce(r.complaint_sub_kind, '') AND lf.stage = 'FIRST_FOLLOW_UP'
    LEFT JOIN ministry_rule_limits lc
           ON lc.version = r.sla_rule_version AND lc.kind = r.kind
          AND lc.sub_kind = coalesce(r.complaint_sub_kind, '') AND lc.stage = 'COMPLETION'
    LEFT JOIN ministry_rule_limits la
           ON la.version = r.sla_rule_version AND la.kind = r.kind
          AND la.sub_kind = coalesce(r.complaint_sub_kind, '') AND la.stage = 'AUTO_CLOSE'
    JOIN ministry_calendar cs ON cs.day = (r.submitted_at AT TIME ZONE 'Asia/Jakarta')::date
    LEFT JOIN ministry_calendar ve ON ve.day = (h.verified_at AT TIME ZONE 'Asia/Jakarta')::date
    LEFT JOIN ministry_calendar fs ON fs.day = (h.disposed_at AT TIME ZONE 'Asia/Jakarta')::date
    LEFT JOIN ministry_calendar fe
           ON fe.day = (h.followed_up_at AT TIME ZONE 'Asia/Jakarta')::date
    LEFT JOIN ministry_calendar ce ON ce.day = (h.completed_at AT TIME ZONE 'Asia/Jakarta')::date
    LEFT JOIN ministry_calendar qs ON qs.day = (h.quiet_at AT TIME ZONE 'Asia/Jakarta')::date
    WHERE h.events > 0
) AS t
-- The due day: the working day whose number is the start's plus the limit (an index
-- lookup per report, which a single write needs and a rebuild can afford).
LEFT JOIN LATERAL (SELECT c.day FROM ministry_calendar c
                   WHERE c.working AND c.wdi = t.s_wdi + t.v_lim LIMIT 1) AS vd ON true
LEFT JOIN LATERAL (SELECT c.day FROM ministry_calendar c
                   WHERE c.working AND c.wdi = t.fs_wdi + t.f_lim LIMIT 1) AS fd ON true
LEFT JOIN LATERAL (SELECT c.day FROM ministry_calendar c
                   WHERE c.working AND c.wdi = t.s_wdi + t.c_lim LIMIT 1) AS cd ON true
LEFT JOIN LATERAL (SELECT c.day FROM ministry_calendar c
                   WHERE c.working AND c.wdi = t.qs_wdi + t.a_lim LIMIT 1) AS ad ON true;

-- What one report adds to ministry_counts, per grouping.
CREATE VIEW ministry_count_rows AS
SELECT f.report_id, f.sub_day, f.month, d.dim, d.key,
       1 AS received, f.anonymous::integer AS anonymous, f.confidential::integer AS confidential,
       f.verified::integer AS verified, f.disposed::integer AS disposed,
       f.followed_up::integer AS followed_up, f.completed::integer AS completed,
       f.auto_closed::integer AS auto_closed, (f.state = 'ARCHIVED')::integer AS archived,
       (f.redispositions > 0)::integer AS redisposed, f.redispositions
FROM ministry_facts f
CROSS JOIN LATERAL ministry_dims(f.region_code, f.institution_code, f.kind, f.topic_id,
                                 f.state, f.rule_version) AS d;

-- What one report adds to the stage roll-ups, per grouping and stage: ended stages
-- (MET, LATE) with their working days, running ones (OPEN) with their due day.
CREATE VIEW ministry_stage_rows AS
SELECT f.report_id, f.sub_day, f.month, d.dim, d.key, s.stage, s.status, s.days, s.due_day
FROM ministry_facts f
CROSS JOIN LATERAL ministry_dims(f.region_code, f.institution_code, f.kind, f.topic_id,
                                 f.state, f.rule_version) AS d
CROSS JOIN LATERAL (VALUES
    ('VERIFY', f.verify_status, f.verify_days, f.verify_due_day),
    ('FIRST_FOLLOW_UP', f.first_follow_up_status, f.first_follow_up_days,
     f.first_follow_up_due_day),
    ('COMPLETION', f.completion_status, f.completion_days, f.completion_due_day)
) AS s (stage, status, days, due_day)
WHERE s.status IN ('MET', 'LATE') OR (s.status = 'OPEN' AND s.due_day IS NOT NULL);

-- Recomputes the facts of some reports and moves the roll-ups by the net difference.
-- Roll-up rows are written in key order, table after table, so concurrent writers
-- cannot deadlock; rows whose net change is zero are not touched at all.
-- Generic plans: one report per call on the write path, re-planning would cost more
-- than running.
CREATE FUNCTION ministry_refresh(ids uuid[]) RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    old_counts ministry_counts[];
    old_ended  ministry_stage_ended[];
    old_open   ministry_stage_open[];
BEGIN
    old_counts := ARRAY(
        SELECT ROW(month, dim, key, -sum(received), -sum(anonymous), -sum(confidential),
                   -sum(verified), -sum(disposed), -sum(followed_up), -sum(completed),
                   -sum(auto_closed), -sum(archived), -sum(redisposed),
                   -sum(redispositions))::ministry_counts
        FROM ministry_count_rows WHERE report_id = ANY (ids) GROUP BY month, dim, key);
    old_ended := ARRAY(
        SELECT ROW(month, dim, key, stage, days, status = 'MET', -count(*))::ministry_stage_ended
        FROM ministry_stage_rows
        WHERE report_id = ANY (ids) AND status <> 'OPEN'
        GROUP BY month, dim, key, stage, days, status = 'MET');
    old_open := ARRAY(
        SELECT ROW(month, dim, key, stage, due_day, -count(*))::ministry_stage_open
        FROM ministry_stage_rows
        WHERE report_id = ANY (ids) AND status = 'OPEN'
        GROUP BY month, dim, key, stage, due_day);

    DELETE FROM ministry_facts WHERE report_id = ANY (ids);
    INSERT INTO ministry_facts SELECT * FROM ministry_fact_source WHERE report_id = ANY (ids);

    INSERT INTO ministry_counts AS c
    SELECT month, dim, key, sum(received), sum(anonymous), sum(confidential), sum(verified),
           sum(disposed), sum(followed_up), sum(completed), sum(auto_closed), sum(archived),
           sum(redisposed), sum(redispositions)
    FROM (SELECT month, dim, key, received, anonymous, confidential, verified, disposed,
                 followed_up, completed, auto_closed, archived, redisposed, redispositions
          FROM ministry_count_rows WHERE report_id = ANY (ids)
          UNION ALL
          SELECT * FROM unnest(old_counts)) AS x
    GROUP BY dim, month, key
    HAVING sum(received) <> 0 OR sum(anonymous) <> 0 OR sum(confidential) <> 0
        OR sum(verified) <> 0 OR sum(disposed) <> 0 OR sum(followed_up) <> 0
        OR sum(completed) <> 0 OR sum(auto_closed) <> 0 OR sum(archived) <> 0
        OR sum(redisposed) <> 0 OR sum(redispositions) <> 0
    ORDER BY dim, month, key
    ON CONFLICT (dim, month, key) DO UPDATE SET
        received = c.received + excluded.received,
        anonymous = c.anonymous + excluded.anonymous,
        confidential = c.confidential + excluded.confidential,
        verified = c.verified + excluded.verified,
        disposed = c.disposed + excluded.disposed,
        followed_up = c.followed_up + excluded.followed_up,
        completed = c.completed + excluded.completed,
        auto_closed = c.auto_closed + excluded.auto_closed,
        archived = c.archived + excluded.archived,
        redisposed = c.redisposed + excluded.redisposed,
        redispositions = c.redispositions + excluded.redispositions;

    INSERT INTO ministry_stage_ended AS e
    SELECT month, dim, key, stage, days, met, sum(n)
    FROM (SELECT month, dim, key, stage, days, status = 'MET' AS met, 1 AS n
          FROM ministry_stage_rows WHERE report_id = ANY (ids) AND status <> 'OPEN'
          UNION ALL
          SELECT * FROM unnest(old_ended)) AS x
    GROUP BY dim, month, key, stage, days, met
    HAVING sum(n) <> 0
    ORDER BY dim, month, key, stage, days, met
    ON CONFLICT (dim, month, key, stage, days, met) DO UPDATE SET n = e.n + excluded.n;

    INSERT INTO ministry_stage_open AS o
    SELECT month, dim, key, stage, due_day, sum(n)
    FROM (SELECT month, dim, key, stage, due_day, 1 AS n
          FROM ministry_stage_rows WHERE report_id = ANY (ids) AND status = 'OPEN'
          UNION ALL
          SELECT * FROM unnest(old_open)) AS x
    GROUP BY dim, month, key, stage, due_day
    HAVING sum(n) <> 0
    ORDER BY dim, month, key, stage, due_day
    ON CONFLICT (dim, month, key, stage, due_day) DO UPDATE SET n = o.n + excluded.n;
END;
$$;

-- Recomputes everything in one pass; for bulk loads and calendar changes.
CREATE FUNCTION ministry_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE ministry_facts, ministry_counts, ministry_stage_ended, ministry_stage_open;
    INSERT INTO ministry_facts SELECT * FROM ministry_fact_source;
    INSERT INTO ministry_counts
    SELECT month, dim, key, sum(received), sum(anonymous), sum(confidential), sum(verified),
           sum(disposed), sum(followed_up), sum(completed), sum(auto_closed), sum(archived),
           sum(redisposed), sum(redispositions)
    FROM ministry_count_rows
    GROUP BY dim, month, key;
    INSERT INTO ministry_stage_ended
    SELECT month, dim, key, stage, days, status = 'MET', count(*)
    FROM ministry_stage_rows WHERE status <> 'OPEN'
    GROUP BY dim, month, key, stage, days, status = 'MET';
    INSERT INTO ministry_stage_open
    SELECT month, dim, key, stage, due_day, count(*)
    FROM ministry_stage_rows WHERE status = 'OPEN'
    GROUP BY dim, month, key, stage, due_day;
END;
$$;

-- A bulk load may set sp4n.ministry_deferred for its transaction and call
-- ministry_rebuild() once at the end instead (hub.ministry.rollup.deferred_rollups).
CREATE FUNCTION ministry_on_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('sp4n.ministry_deferred', true), '') <> 'on' THEN
        PERFORM ministry_refresh(ARRAY(SELECT DISTINCT report_id FROM added));
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER ministry_history AFTER INSERT ON report_history
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION ministry_on_history();

-- Reports indexed before this migration.
SELECT ministry_rebuild();
