-- The dashboard's one read of its own: the overdue list. Every figure it shows comes
-- from hub/ministry/ministry.sql through MinistryQueries.

-- name: dashboard_overdue
-- Reports submitted in [$1, $2) (WIB dates) with a compliance stage still running past
-- its due day before $3 (WIB today), from the projected facts; each with its oldest
-- overdue stage, the oldest due day first, and the working days since. Visibility as
-- reports_page: $4 sees every confidential report, $5 the viewer's nodes; $6 only
-- these regions (null: all); $7 at most. $8 a horizon: only reports submitted and
-- stages due before it. A stage falls due after its report's submission, so the
-- answer is the whole list's beginning up to the horizon, and an early horizon spares
-- reading the period's later reports (ministry_facts_day).
WITH late AS (
    SELECT DISTINCT ON (f.report_id) f.report_id, s.stage, s.due_day
    FROM ministry_facts f
    CROSS JOIN LATERAL (VALUES
        ('VERIFY', f.verify_status, f.verify_due_day),
        ('FIRST_FOLLOW_UP', f.first_follow_up_status, f.first_follow_up_due_day),
        ('COMPLETION', f.completion_status, f.completion_due_day)
    ) AS s (stage, status, due_day)
    WHERE f.sub_day >= $1::date AND f.sub_day < least($2::date, $8::date)
      AND s.status = 'OPEN' AND s.due_day < least($3::date, $8::date)
      AND ($6::text[] IS NULL OR f.region_code = ANY ($6::text[]))
    ORDER BY f.report_id, s.due_day
)
SELECT r.id, r.title, r.confidential, r.nodes, r.state, r.region_code,
       g.name AS region_name, r.institution_code, i.name AS institution_name,
       l.stage, l.due_day, greatest(t.wdi - d.wdi, 1) AS working_days_late
FROM late l
JOIN reports r ON r.id = l.report_id
JOIN regions g ON g.code = r.region_code
JOIN institutions i ON i.code = r.institution_code
JOIN ministry_calendar d ON d.day = l.due_day
JOIN ministry_calendar t ON t.day = $3::date
WHERE (NOT r.confidential OR $4 OR r.nodes && $5::text[])
ORDER BY l.due_day, r.submitted_at, r.id
LIMIT $7

-- name: dashboard_institution_regions
-- Each institution's region (none for a national one): whose figures a coordinator sees.
SELECT code, region_code FROM institutions
