-- Connector state: pull watermarks, the review queue, and the directory connectors ask.

-- name: watermark_of
SELECT watermark FROM node_watermarks WHERE node_code = $1

-- name: upsert_watermark
-- $1 node, $2 watermark, $3 pulled at, $4 changes in this page (added to the total).
INSERT INTO node_watermarks (node_code, watermark, pulled_at, changes)
VALUES ($1, $2, $3, $4)
ON CONFLICT (node_code) DO UPDATE
SET watermark = EXCLUDED.watermark, pulled_at = EXCLUDED.pulled_at,
    changes = node_watermarks.changes + EXCLUDED.changes

-- name: watermarks
SELECT node_code, watermark, pulled_at, changes FROM node_watermarks ORDER BY node_code

-- name: enqueue_review
-- The same node version is queued once, however often it is pulled: the id of a
-- new item, no row for one seen before.
INSERT INTO review_queue (node_code, external_id, external_version, raw_state, reason, report_id)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (node_code, external_id, external_version) DO NOTHING
RETURNING id

-- name: link_external_ref
INSERT INTO external_refs (node_code, external_id, report_id) VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING

-- name: external_id_of_report
-- Node $1's id for report $2, if the hub has linked one (the oldest, should there be two).
SELECT external_id FROM external_refs WHERE node_code = $1 AND report_id = $2
ORDER BY external_id LIMIT 1

-- name: link_hub_created
-- Node $1's report $2 carries the hub's reference $3: a report the hub created there
-- and had not linked yet. Links it; nothing when $3 names no hub report.
INSERT INTO external_refs (node_code, external_id, report_id)
SELECT $1, $2, id FROM reports WHERE id = $3
ON CONFLICT DO NOTHING

-- name: directory_content
-- A report's content for node $2; no row when the report is confidential and
-- $2 is not involved in it.
SELECT r.id, r.title, r.content, r.kind, r.region_code, r.topic_id, r.institution_code,
       r.anonymous, r.confidential, r.location, r.latitude, r.longitude
FROM reports r
WHERE r.id = $1 AND (NOT r.confidential OR $2 = ANY (r.nodes))

-- name: states_since_node_change
-- The states node $2 may show of report $1 without news: the state its own system
-- last gave the report, and every later state the hub wrote back to it or is
-- writing (sink_inbox, sink_intents). A node showing one of these is behind the
-- hub's write-backs (or echoes an older one), not reporting news; a state the hub
-- held but never sent there (a decline back to VERIFIED, say) is the node's own
-- news. Changes by the node's people through the hub (the province's admins act as
-- node 16) are write-backs to it like any other.
WITH own AS (
    SELECT coalesce(max(version), 0) AS version FROM report_history
    WHERE report_id = $1 AND actor_node = $2 AND actor_role = 'NODE_SYSTEM'
)
SELECT DISTINCT h.to_state
FROM report_history h, own
WHERE h.report_id = $1
  AND h.version >= own.version
  AND (h.version = own.version
       OR EXISTS (SELECT 1 FROM sink_inbox i
                  WHERE i.report_id = $1 AND i.node_code = $2 AND i.version = h.version
                    AND i.outcome = 'APPLIED')
       OR EXISTS (SELECT 1 FROM sink_intents t
                  WHERE t.report_id = $1 AND t.node_code = $2 AND t.version = h.version))

-- name: pulled_at_by_nodes
SELECT node_code, pulled_at FROM node_watermarks WHERE node_code = ANY($1::text[])

-- name: forget_node_watermarks
-- Pulls of nodes $1 start from the beginning again (their systems were reset).
DELETE FROM node_watermarks WHERE node_code = ANY($1::text[])

-- name: forget_links_made_by_hub
-- The links to nodes $1 whose ids their freshly reset systems do not hold (pairs
-- $2 node, $3 id): ids given in an earlier run, to reports the hub created there
-- or citizens filed there, which the reset system will hand out again.
DELETE FROM external_refs e
WHERE e.node_code = ANY($1::text[])
  AND NOT EXISTS (
      SELECT 1 FROM unnest($2::text[], $3::text[]) AS held (node_code, external_id)
      WHERE held.node_code = e.node_code AND held.external_id = e.external_id)

-- name: pull_try_node
-- One process pulls a node at a time: the lock of node $2, held by the session.
SELECT pg_try_advisory_lock($1, hashtext($2))

-- name: replies_from_node
-- The words of the replies recorded for report $1 as node $2's (pulled from its system or
-- sent by its service account), to record a reply the node lists again only once.
SELECT content FROM replies WHERE report_id = $1 AND actor_node = $2
