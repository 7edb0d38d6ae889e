-- The initial import of a node: a page's planned rows are copied into staging
-- tables, then moved set-wise into the index (hub/initial_sync.py). $1 is always
-- the node, $2 the hub's time of the page. The staged reports and history rows hold
-- every column the domain core decided (hub.store.effects names them).

-- name: bulk_reference
SELECT ARRAY(SELECT code FROM regions) AS regions,
       ARRAY(SELECT id FROM topics) AS topics,
       ARRAY(SELECT code FROM institutions ORDER BY code) AS institutions,
       ARRAY(SELECT node_code FROM institutions ORDER BY code) AS institution_nodes,
       ARRAY(SELECT code FROM nodes) AS nodes

-- name: bulk_known_refs
-- Which of the page's external ids already name a report, and its state.
SELECT e.external_id, r.state
FROM external_refs e JOIN reports r ON r.id = e.report_id
WHERE e.node_code = $1 AND e.external_id = ANY ($2::text[])

-- name: bulk_stage
-- Made once per connection and emptied at every commit (creating them anew for
-- every page cost more than the page's COPY); a page's rows never outlive its
-- transaction.
CREATE TEMP TABLE IF NOT EXISTS bulk_reports
    (LIKE reports INCLUDING DEFAULTS, external_id text NOT NULL) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS bulk_reporters (
    report_id uuid, name text, nik text, phone text, email text
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS bulk_history (LIKE report_history) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS bulk_dispositions (
    report_id uuid, seq integer, from_institution text, to_institution text, note text,
    declined boolean
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS bulk_follow_ups (
    ord integer, report_id uuid, institution_code text, content text
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS bulk_reviews (
    external_id text, external_version text, raw_state text, reason text, report_id uuid
) ON COMMIT DELETE ROWS;

-- name: bulk_drop_known
-- A report another writer linked meanwhile is left to the per-change path.
DELETE FROM bulk_reports s USING external_refs e
WHERE e.node_code = $1 AND e.external_id = s.external_id
RETURNING s.external_id

-- name: bulk_insert_reports
INSERT INTO reports (id, kind, complaint_sub_kind, title, content, incident_date, location,
                     latitude, longitude, topic_id, tags, channel, anonymous, confidential,
                     origin_node, region_code, institution_code, state, archive_reason, version,
                     sla_rule_version, submitted_at, updated_at, nodes)
SELECT id, kind, complaint_sub_kind, title, content, incident_date, location, latitude,
       longitude, topic_id, tags, channel, anonymous, confidential, origin_node, region_code,
       institution_code, state, archive_reason, version, sla_rule_version, submitted_at,
       updated_at, nodes
FROM bulk_reports
ON CONFLICT (id) DO NOTHING

-- name: bulk_insert_external_refs
INSERT INTO external_refs (node_code, external_id, report_id)
SELECT $1, external_id, id FROM bulk_reports
ON CONFLICT (node_code, external_id) DO NOTHING

-- name: bulk_insert_reporters
INSERT INTO reporters (report_id, name, nik, phone, email)
SELECT p.report_id, p.name, p.nik, p.phone, p.email
FROM bulk_reporters p JOIN bulk_reports s ON s.id = p.report_id
ON CONFLICT (report_id) DO NOTHING

-- name: bulk_insert_dispositions
INSERT INTO dispositions (report_id, seq, from_institution, to_institution, note, actor_node, at,
                          declined)
SELECT d.report_id, d.seq, d.from_institution, d.to_institution, d.note, $1, $2, d.declined
FROM bulk_dispositions d JOIN bulk_reports s ON s.id = d.report_id
ON CONFLICT (report_id, seq) DO NOTHING

-- name: bulk_insert_follow_ups
INSERT INTO follow_ups (report_id, institution_code, content, actor_node, at)
SELECT f.report_id, f.institution_code, f.content, $1, $2
FROM bulk_follow_ups f JOIN bulk_reports s ON s.id = f.report_id
ORDER BY f.ord

-- name: bulk_insert_history
-- The page's reports wait for their roll-ups in ministry_pending (bulk_pending_rollups).
INSERT INTO report_history (report_id, version, verb, from_state, to_state, actor_node,
                            actor_role, note, at)
SELECT h.report_id, h.version, h.verb, h.from_state, h.to_state, h.actor_node,
       h.actor_role, h.note, h.at
FROM bulk_history h JOIN bulk_reports s ON s.id = h.report_id
ON CONFLICT (report_id, version) DO NOTHING

-- name: bulk_insert_reviews
-- The same node version is queued once, however often it is imported.
INSERT INTO review_queue (node_code, external_id, external_version, raw_state, reason, report_id)
SELECT $1, v.external_id, v.external_version, v.raw_state, v.reason, v.report_id
FROM bulk_reviews v
WHERE v.report_id IS NULL OR EXISTS (SELECT 1 FROM bulk_reports s WHERE s.id = v.report_id)
ON CONFLICT (node_code, external_id, external_version) DO NOTHING

-- name: bulk_pending_rollups
-- The page's reports, whose roll-ups bulk_refresh_pending brings up to date later.
INSERT INTO ministry_pending (report_id, node_code)
SELECT id, $1 FROM bulk_reports
ON CONFLICT (report_id) DO NOTHING

-- name: bulk_refresh_pending
-- Up to $2 of the node's pending reports: facts and roll-ups in one set-wise pass.
-- The reports are held while they are refreshed, as every refresher holds them
-- (ministry_refresh_held, migration 0026).
WITH done AS (
    DELETE FROM ministry_pending
    WHERE report_id IN (SELECT report_id FROM ministry_pending WHERE node_code = $1 LIMIT $2)
    RETURNING report_id
)
SELECT count(*) AS refreshed, ministry_refresh_held(array_agg(report_id)) AS nothing
FROM done

-- name: bulk_pending_of_node
SELECT EXISTS (SELECT 1 FROM ministry_pending WHERE node_code = $1)

-- name: bulk_refresh_any_pending
-- Up to $1 pending reports of any node, the same way (held, as above).
WITH done AS (
    DELETE FROM ministry_pending
    WHERE report_id IN (SELECT report_id FROM ministry_pending LIMIT $1)
    RETURNING report_id
)
SELECT count(*) AS refreshed, ministry_refresh_held(array_agg(report_id)) AS nothing
FROM done
