-- The ministry view: figures from the roll-ups of migration 0005, the same figures
-- computed naively from the raw tables (to check the roll-ups and to benchmark
-- them), SLA facts per report, auto-close candidates and the working-day calendar.
-- Definitions: hub/ministry/__init__.py. A dim is ALL, REGION, INSTITUTION, KIND,
-- TOPIC, STATE or RULE_VERSION.

-- name: ministry_statistics
-- Counts per group of the reports submitted in a period: whole months from the
-- roll-up, the ragged days at either end from the per-report facts.
-- $1 dim, $2/$3 whole months [from, to), $4/$5 and $6/$7 edge days [from, to),
-- $8 group by month of submission instead of by key, $9 with it by key too (the key
-- is then '<YYYY-MM> <key>').
SELECT key, sum(received)::integer AS received, sum(anonymous)::integer AS anonymous,
       sum(confidential)::integer AS confidential, sum(verified)::integer AS verified,
       sum(disposed)::integer AS disposed, sum(followed_up)::integer AS followed_up,
       sum(completed)::integer AS completed, sum(auto_closed)::integer AS auto_closed,
       sum(archived)::integer AS archived, sum(redisposed)::integer AS redisposed,
       sum(redispositions)::integer AS redispositions
FROM (
    SELECT concat_ws(' ', CASE WHEN $8::boolean THEN to_char(month, 'YYYY-MM') END,
                     CASE WHEN NOT $8::boolean OR $9::boolean THEN key END) AS key,
           received, anonymous, confidential, verified, disposed, followed_up, completed,
           auto_closed, archived, redisposed, redispositions
    FROM ministry_counts
    WHERE dim = $1 AND month >= $2::date AND month < $3::date
    UNION ALL
    SELECT concat_ws(' ', CASE WHEN $8::boolean THEN to_char(month, 'YYYY-MM') END,
                     CASE WHEN NOT $8::boolean OR $9::boolean THEN key END),
           received, anonymous, confidential, verified, disposed, followed_up, completed,
           auto_closed, archived, redisposed, redispositions
    FROM ministry_count_rows
    WHERE dim = $1
      AND ((sub_day >= $4::date AND sub_day < $5::date)
           OR (sub_day >= $6::date AND sub_day < $7::date))
) AS parts
GROUP BY key
HAVING sum(received) > 0
ORDER BY key

-- name: ministry_sla
-- Per group and stage: met, late, overdue (running past its due day as of $3, the
-- WIB date today), pending, and the nearest-rank median and p90 of the working days
-- taken by the stages that ended. $1 dim, $2 group by month of submission; ended
-- stages: $4/$5 whole years (YEAR rows), $6/$7 and $8/$9 the whole months around them;
-- running stages: $10/$11 all whole months; both: $12/$13 and $14/$15 ragged days;
-- $16 with $2, by key too (the key is then '<YYYY-MM> <key>'); $17 only the groups of
-- these keys (NULL: every group).
-- Spans are [from, to) dates; an empty one has from = to.
WITH ended AS (
    SELECT key, stage, days, sum(n) AS n, coalesce(sum(n) FILTER (WHERE met), 0) AS met
    FROM (
        SELECT concat_ws(' ', CASE WHEN $2::boolean THEN to_char(month, 'YYYY-MM') END,
                         CASE WHEN NOT $2::boolean OR $16::boolean THEN key END) AS key,
               stage, days, met, n
        FROM ministry_stage_ended
        WHERE dim = $1 AND ($17::text[] IS NULL OR key = ANY($17::text[]))
          AND ((grain = 'YEAR' AND month >= $4::date AND month < $5::date)
               OR (grain = 'MONTH' AND ((month >= $6::date AND month < $7::date)
                                        OR (month >= $8::date AND month < $9::date))))
        UNION ALL
        SELECT concat_ws(' ', CASE WHEN $2::boolean THEN to_char(month, 'YYYY-MM') END,
                         CASE WHEN NOT $2::boolean OR $16::boolean THEN key END),
               stage, days, status = 'MET', 1
        FROM ministry_stage_rows
        WHERE dim = $1 AND status IN ('MET', 'LATE')
          AND ($17::text[] IS NULL OR key = ANY($17::text[]))
          AND ((sub_day >= $12::date AND sub_day < $13::date)
               OR (sub_day >= $14::date AND sub_day < $15::date))
    ) AS x
    GROUP BY key, stage, days
    HAVING sum(n) <> 0
), ranked AS (
    SELECT key, stage, days, n, met,
           sum(n) OVER (PARTITION BY key, stage ORDER BY days) AS cum,
           sum(n) OVER (PARTITION BY key, stage) AS total
    FROM ended
), e AS (
    -- percentile_disc: the first value whose cumulative count reaches ceil(p * total).
    SELECT key, stage, sum(n) AS ended, sum(met) AS met,
           min(days) FILTER (WHERE 2 * cum >= total) AS median,
           min(days) FILTER (WHERE 10 * cum >= 9 * total) AS p90
    FROM ranked
    GROUP BY key, stage
), o AS (
    SELECT key, stage, sum(overdue) AS overdue, sum(pending) AS pending
    FROM (
        -- Months whose running stages are all past due: their totals are enough.
        SELECT concat_ws(' ', CASE WHEN $2::boolean THEN to_char(month, 'YYYY-MM') END,
                         CASE WHEN NOT $2::boolean OR $16::boolean THEN key END) AS key,
               stage, n AS overdue, 0 AS pending
        FROM ministry_stage_open_total
        WHERE dim = $1 AND month >= $10::date AND month < $11::date
          AND ($17::text[] IS NULL OR key = ANY($17::text[]))
          AND coalesce(due_max, '-infinity') < $3::date
        UNION ALL
        -- The other months, due day by due day.
        SELECT concat_ws(' ', CASE WHEN $2::boolean THEN to_char(d.month, 'YYYY-MM') END,
                         CASE WHEN NOT $2::boolean OR $16::boolean THEN d.key END),
               d.stage, CASE WHEN d.due_day < $3::date THEN d.n ELSE 0 END,
               CASE WHEN d.due_day >= $3::date THEN d.n ELSE 0 END
        FROM ministry_stage_open_total t
        JOIN ministry_stage_open d
          ON d.dim = t.dim AND d.month = t.month AND d.key = t.key AND d.stage = t.stage
        WHERE t.dim = $1 AND t.month >= $10::date AND t.month < $11::date
          AND ($17::text[] IS NULL OR t.key = ANY($17::text[]))
          AND t.due_max >= $3::date
        UNION ALL
        SELECT concat_ws(' ', CASE WHEN $2::boolean THEN to_char(month, 'YYYY-MM') END,
                         CASE WHEN NOT $2::boolean OR $16::boolean THEN key END), stage,
               CASE WHEN due_day < $3::date THEN 1 ELSE 0 END,
               CASE WHEN due_day >= $3::date THEN 1 ELSE 0 END
        FROM ministry_stage_rows
        WHERE dim = $1 AND status = 'OPEN'
          AND ($17::text[] IS NULL OR key = ANY($17::text[]))
          AND ((sub_day >= $12::date AND sub_day < $13::date)
               OR (sub_day >= $14::date AND sub_day < $15::date))
    ) AS x
    GROUP BY key, stage
)
SELECT coalesce(e.key, o.key) AS key, coalesce(e.stage, o.stage) AS stage,
       coalesce(e.met, 0)::integer AS met,
       (coalesce(e.ended, 0) - coalesce(e.met, 0))::integer AS late,
       coalesce(o.overdue, 0)::integer AS overdue, coalesce(o.pending, 0)::integer AS pending,
       e.median, e.p90
FROM e
FULL JOIN o ON o.key = e.key AND o.stage = e.stage
ORDER BY 1, 2

-- name: ministry_naive_statistics
-- ministry_statistics straight from reports and report_history, one GROUP BY per call.
-- $1 dim, $2/$3 submitted in [from, to) (timestamptz), $4 group by month, $5 and by
-- key too.
SELECT concat_ws(' ',
           CASE WHEN $4::boolean
                THEN to_char(r.submitted_at AT TIME ZONE 'Asia/Jakarta', 'YYYY-MM') END,
           CASE WHEN NOT $4::boolean OR $5::boolean
                THEN CASE $1 WHEN 'ALL' THEN '' WHEN 'REGION' THEN r.region_code
                             WHEN 'INSTITUTION' THEN r.institution_code WHEN 'KIND' THEN r.kind
                             WHEN 'TOPIC' THEN r.topic_id::text WHEN 'STATE' THEN r.state
                             WHEN 'RULE_VERSION' THEN r.sla_rule_version END
           END) AS key,
       count(*)::integer AS received,
       count(*) FILTER (WHERE r.anonymous)::integer AS anonymous,
       count(*) FILTER (WHERE r.confidential)::integer AS confidential,
       count(*) FILTER (WHERE h.verified)::integer AS verified,
       count(*) FILTER (WHERE h.disposed)::integer AS disposed,
       count(*) FILTER (WHERE h.followed_up)::integer AS followed_up,
       count(*) FILTER (WHERE h.completed)::integer AS completed,
       count(*) FILTER (WHERE h.auto_closed)::integer AS auto_closed,
       count(*) FILTER (WHERE r.state = 'ARCHIVED')::integer AS archived,
       count(*) FILTER (WHERE h.disposals > 1)::integer AS redisposed,
       coalesce(sum(h.disposals - 1) FILTER (WHERE h.disposals > 1), 0)::integer
           AS redispositions
FROM reports r
JOIN (
    SELECT x.report_id,
           bool_or(x.to_state IN ('VERIFIED', 'DISPOSED')) AS verified,
           bool_or(x.to_state = 'DISPOSED') AS disposed,
           bool_or(x.to_state = 'IN_FOLLOW_UP') AS followed_up,
           bool_or(x.to_state = 'COMPLETED') AS completed,
           bool_or(x.verb = 'COMPLETE' AND x.actor_role = 'SYSTEM') AS auto_closed,
           count(*) FILTER (WHERE x.verb = 'DISPOSE') AS disposals
    FROM report_history x
    JOIN reports y ON y.id = x.report_id
    WHERE y.submitted_at >= $2 AND y.submitted_at < $3
    GROUP BY x.report_id
) AS h ON h.report_id = r.id
WHERE r.submitted_at >= $2 AND r.submitted_at < $3
GROUP BY 1
ORDER BY 1

-- name: ministry_naive_sla
-- ministry_sla straight from reports, report_history, sla_rules and the calendar,
-- with percentile_disc. $1..$4 as ministry_naive_statistics, $5 the WIB date today,
-- $6 as ministry_naive_statistics' $5, $7 only the groups of these keys (NULL: all).
WITH h AS (
    SELECT x.report_id,
           min(x.at) FILTER (WHERE x.to_state IN ('VERIFIED', 'DISPOSED')) AS verified_at,
           min(x.at) FILTER (WHERE x.to_state = 'DISPOSED') AS disposed_at,
           min(x.at) FILTER (WHERE x.to_state = 'IN_FOLLOW_UP') AS followed_up_at,
           min(x.at) FILTER (WHERE x.to_state = 'COMPLETED') AS completed_at
    FROM report_history x
    JOIN reports y ON y.id = x.report_id
    WHERE y.submitted_at >= $2 AND y.submitted_at < $3
    GROUP BY x.report_id
), b AS (
    SELECT concat_ws(' ',
               CASE WHEN $4::boolean
                    THEN to_char(r.submitted_at AT TIME ZONE 'Asia/Jakarta', 'YYYY-MM') END,
               CASE WHEN NOT $4::boolean OR $6::boolean THEN d.key END) AS key,
           r.state, r.kind, r.complaint_sub_kind, r.sla_rule_version, r.submitted_at, h.*
    FROM reports r
    CROSS JOIN LATERAL (
        SELECT CASE $1 WHEN 'ALL' THEN '' WHEN 'REGION' THEN r.region_code
                       WHEN 'INSTITUTION' THEN r.institution_code
                       WHEN 'KIND' THEN r.kind WHEN 'TOPIC' THEN r.topic_id::text
                       WHEN 'STATE' THEN r.state
                       WHEN 'RULE_VERSION' THEN r.sla_rule_version END AS key
    ) AS d
    JOIN h ON h.report_id = r.id
    WHERE r.submitted_at >= $2 AND r.submitted_at < $3
      AND ($7::text[] IS NULL OR d.key = ANY($7::text[]))
), stages AS (
    SELECT key, 'VERIFY' AS stage, submitted_at AS started, verified_at AS ended,
           state <> 'ARCHIVED' AS live, kind, complaint_sub_kind, sla_rule_version
    FROM b
    UNION ALL
    SELECT key, 'FIRST_FOLLOW_UP', disposed_at, followed_up_at, true, kind,
           complaint_sub_kind, sla_rule_version
    FROM b
    WHERE disposed_at IS NOT NULL
    UNION ALL
    SELECT key, 'COMPLETION', submitted_at, completed_at, state <> 'ARCHIVED', kind,
           complaint_sub_kind, sla_rule_version
    FROM b
), kinds AS (
    SELECT DISTINCT stage, kind, complaint_sub_kind, sla_rule_version FROM stages
), limits AS (
    SELECT k.*,
           (SELECT s.working_days FROM sla_rules s
            WHERE s.version = k.sla_rule_version AND s.stage = k.stage
              AND (s.kind IS NULL OR s.kind = k.kind)
              AND (s.sub_kind IS NULL OR s.sub_kind = k.complaint_sub_kind)
            ORDER BY s.kind IS NULL, s.sub_kind IS NULL
            LIMIT 1) AS working_days
    FROM kinds k
), timed AS (
    SELECT s.key, s.stage, s.live, l.working_days, due.day AS due_day,
           CASE WHEN s.ended IS NULL THEN NULL
                WHEN ce.wdi = cs.wdi THEN 0
                ELSE ce.wdi - cs.wdi + CASE WHEN ce.working THEN 0 ELSE 1 END END AS days
    FROM stages s
    JOIN limits l
      ON l.stage = s.stage AND l.kind = s.kind AND l.sla_rule_version = s.sla_rule_version
     AND l.complaint_sub_kind IS NOT DISTINCT FROM s.complaint_sub_kind
    JOIN ministry_calendar cs ON cs.day = (s.started AT TIME ZONE 'Asia/Jakarta')::date
    LEFT JOIN ministry_calendar ce ON ce.day = (s.ended AT TIME ZONE 'Asia/Jakarta')::date
    LEFT JOIN ministry_calendar due ON due.working AND due.wdi = cs.wdi + l.working_days
    WHERE l.working_days IS NOT NULL
)
SELECT key, stage,
       count(*) FILTER (WHERE days <= working_days)::integer AS met,
       count(*) FILTER (WHERE days > working_days)::integer AS late,
       count(*) FILTER (WHERE days IS NULL AND live AND due_day < $5::date)::integer AS overdue,
       count(*) FILTER (WHERE days IS NULL AND live AND due_day >= $5::date)::integer AS pending,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY days) AS median,
       percentile_disc(0.9) WITHIN GROUP (ORDER BY days) AS p90
FROM timed
GROUP BY key, stage
ORDER BY key, stage

-- name: ministry_labels
SELECT 'REGION' AS dim, code AS key, name AS label FROM regions
UNION ALL
SELECT 'INSTITUTION', code, name FROM institutions
UNION ALL
SELECT 'TOPIC', id::text, name FROM topics

-- name: ministry_declines
-- Per institution, over the disposition links of reports submitted in [$1, $2): how
-- often a report was forwarded to it, and how often it sent one back declined.
SELECT i.code, i.name, i.level,
       count(*) FILTER (WHERE NOT d.declined AND d.to_institution = i.code)::integer
           AS forwarded,
       count(*) FILTER (WHERE d.declined AND d.from_institution = i.code)::integer
           AS declined
FROM reports r
JOIN dispositions d ON d.report_id = r.id
JOIN institutions i ON i.code IN (d.to_institution, d.from_institution)
WHERE r.submitted_at >= $1 AND r.submitted_at < $2
GROUP BY i.code, i.name, i.level
HAVING count(*) FILTER (WHERE NOT d.declined AND d.to_institution = i.code) > 0
ORDER BY i.code

-- name: ministry_satisfaction
-- Per institution handling them, the reports submitted in [$1, $2) that are completed,
-- how many the reporters rated, and the mean score.
SELECT i.code, i.name, i.level, count(*)::integer AS completed,
       count(g.report_id)::integer AS rated, avg(g.score)::float8 AS average
FROM reports r
JOIN institutions i ON i.code = r.institution_code
LEFT JOIN report_ratings g ON g.report_id = r.id
WHERE r.submitted_at >= $1 AND r.submitted_at < $2 AND r.state = 'COMPLETED'
GROUP BY i.code, i.name, i.level
ORDER BY i.code

-- name: ministry_institutions
SELECT code, name, level FROM institutions ORDER BY code

-- name: ministry_facts_by_reports
-- Computed from the index as it is now, not read from the projected facts: a
-- report's own deadlines show its latest change at once.
SELECT report_id, rule_version, verify_started_at, verify_ended_at, verify_limit,
       verify_due_day, verify_days, verify_status, first_follow_up_started_at,
       first_follow_up_ended_at, first_follow_up_limit, first_follow_up_due_day,
       first_follow_up_days, first_follow_up_status, completion_started_at,
       completion_ended_at, completion_limit, completion_due_day, completion_days,
       completion_status, auto_close_started_at, auto_close_limit, auto_close_due_day,
       auto_close_status
FROM ministry_fact_source
WHERE report_id = ANY ($1::uuid[])

-- name: ministry_auto_close_due
-- Reports quiet since a follow-up whose auto-close due day ended before $1 (WIB
-- today), oldest due first; $2 at most.
SELECT f.report_id, f.version, i.node_code
FROM ministry_facts f
JOIN institutions i ON i.code = f.institution_code
WHERE f.auto_close_status = 'OPEN' AND f.auto_close_due_day < $1::date
ORDER BY f.auto_close_due_day, f.report_id
LIMIT $2

-- name: ministry_calendar_exceptions
-- Days that are not plain weekdays or weekend days.
SELECT day, working, reason
FROM ministry_calendar
WHERE reason IS NOT NULL OR working <> (extract(isodow FROM day) < 6)
ORDER BY day

-- name: ministry_calendar_set
UPDATE ministry_calendar SET working = $2, reason = $3 WHERE day = $1

-- name: ministry_calendar_renumber
SELECT ministry_calendar_renumber()

-- name: ministry_calendar_days
SELECT day, working, reason FROM ministry_calendar WHERE day >= $1 AND day <= $2 ORDER BY day

-- name: ministry_overrides
SELECT day, working, reason FROM ministry_calendar_overrides ORDER BY day

-- name: ministry_override_put
INSERT INTO ministry_calendar_overrides (day, working, reason) VALUES ($1, $2, $3)
ON CONFLICT (day) DO UPDATE
SET working = excluded.working, reason = excluded.reason, created_at = now()

-- name: ministry_override_delete
DELETE FROM ministry_calendar_overrides WHERE day = $1

-- name: ministry_affected_reports
-- Reports whose facts depend on a day in [$1, $2]: submitted by $2, with a start,
-- an end or a due day on or after $1.
SELECT report_id
FROM ministry_facts
WHERE sub_day <= $2
  AND greatest(verify_due_day, first_follow_up_due_day, completion_due_day, auto_close_due_day,
               (verify_ended_at AT TIME ZONE 'Asia/Jakarta')::date,
               (first_follow_up_ended_at AT TIME ZONE 'Asia/Jakarta')::date,
               (completion_ended_at AT TIME ZONE 'Asia/Jakarta')::date) >= $1
ORDER BY report_id

-- name: ministry_refresh
-- Holds the reports (migration 0026), then recomputes their facts and roll-ups.
SELECT ministry_refresh_held($1::uuid[])

-- name: ministry_rebuild
SELECT ministry_rebuild()

-- name: ministry_pending_all
-- A bulk load into an empty index (the demo seed) writes no outbox rows: every
-- report it wrote waits for the projection here instead.
INSERT INTO ministry_pending (report_id, node_code)
SELECT id, origin_node FROM reports
ON CONFLICT (report_id) DO NOTHING

-- name: ministry_pending_clear
-- Before a rebuild: every report listed now is counted by it.
DELETE FROM ministry_pending

-- name: ministry_facts_count
SELECT count(*) FROM ministry_facts

-- name: projection_horizon
SELECT horizon::text FROM ministry_projection

-- name: projection_lock
-- One projection pass at a time, across every hub process; ends with the transaction.
SELECT pg_try_advisory_xact_lock(1598570242)

-- name: projection_advance
-- Records how far the projection has come ($1: horizon; $2: current to, when the
-- pass saw every change committed before it).
UPDATE ministry_projection
SET horizon = greatest(horizon, $1::text::xid8),
    current_to = greatest(current_to, coalesce($2, current_to))

-- name: projection_current_to
-- Every change committed before this time is counted in the roll-ups.
SELECT current_to FROM ministry_projection

-- name: database_now
SELECT statement_timestamp()

-- name: projection_state
-- How far the figures are current, and how many committed changes wait for a pass.
SELECT p.current_to,
       extract(epoch FROM clock_timestamp() - p.current_to)::float8 AS lag_seconds,
       (SELECT count(*) FROM outbox o WHERE o.xid >= p.horizon) AS waiting
FROM ministry_projection p
