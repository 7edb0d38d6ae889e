-- Reads and writes of the report index. Reads of whole reports use the report_index
-- view, whose columns match hub.store.rows.ReportRow.

-- name: report_by_id
SELECT * FROM report_index WHERE id = $1

-- name: report_by_ref
SELECT x.* FROM external_refs e JOIN report_index x ON x.id = e.report_id
WHERE e.node_code = $1 AND e.external_id = $2

-- name: reports_page
-- $1 region, $2 institution, $3 state, $4 kind, $5 from, $6 to, $7 title pattern,
-- $8 sees every confidential report, $9 the viewer's nodes,
-- $10/$11 cursor (submitted_at, id) or nulls, $12 limit. Newest first.
SELECT * FROM report_index
WHERE (NOT confidential OR $8 OR nodes && $9::text[])
  AND ($1::text IS NULL OR region_code = $1)
  AND ($2::text IS NULL OR institution_code = $2)
  AND ($3::text IS NULL OR state = $3)
  AND ($4::text IS NULL OR kind = $4)
  AND ($5::timestamptz IS NULL OR submitted_at >= $5)
  AND ($6::timestamptz IS NULL OR submitted_at < $6)
  AND ($7::text IS NULL OR title ILIKE $7)
  AND ($10::timestamptz IS NULL OR (submitted_at, id) < ($10, $11::uuid))
ORDER BY submitted_at DESC, id DESC
LIMIT $12

-- name: reports_count
SELECT count(*)
FROM reports
WHERE (NOT confidential OR $8 OR nodes && $9::text[])
  AND ($1::text IS NULL OR region_code = $1)
  AND ($2::text IS NULL OR institution_code = $2)
  AND ($3::text IS NULL OR state = $3)
  AND ($4::text IS NULL OR kind = $4)
  AND ($5::timestamptz IS NULL OR submitted_at >= $5)
  AND ($6::timestamptz IS NULL OR submitted_at < $6)
  AND ($7::text IS NULL OR title ILIKE $7)

-- name: history_by_reports
SELECT report_id, version, verb, from_state, to_state, actor_node, actor_role, note, at
FROM report_history WHERE report_id = ANY($1::uuid[])
ORDER BY report_id, version

-- name: dispositions_by_reports
SELECT report_id, seq, from_institution, to_institution, note, actor_node, at, declined
FROM dispositions WHERE report_id = ANY($1::uuid[])
ORDER BY report_id, seq

-- name: replies_by_reports
SELECT report_id, id, content, actor_node, at
FROM replies WHERE report_id = ANY($1::uuid[])
ORDER BY report_id, id

-- name: rating_by_reports
SELECT report_id, score, comment, institution_code, actor_node, at
FROM report_ratings WHERE report_id = ANY($1::uuid[])

-- name: follow_ups_by_reports
SELECT report_id, id, institution_code, content, actor_node, at
FROM follow_ups WHERE report_id = ANY($1::uuid[])
ORDER BY report_id, id

-- name: external_refs_by_reports
SELECT report_id, node_code, external_id
FROM external_refs WHERE report_id = ANY($1::uuid[])
ORDER BY report_id, node_code

-- name: idempotency_lookup
SELECT request_hash, report_id, version FROM idempotency_keys WHERE scope = $1 AND key = $2

-- name: node_exists
SELECT EXISTS (SELECT 1 FROM nodes WHERE code = $1)

-- name: external_refs_of_report
SELECT node_code, external_id FROM external_refs WHERE report_id = $1 ORDER BY node_code

-- name: submission_read
-- Everything a submission is decided on, in one statement: which of its region ($1),
-- topic ($2), institution ($3), node ($4) and external id's node ($5) exist, the
-- region's and institution's columns of report_index, whether the external id ($5,
-- $6) already names a report, and an earlier request with the same idempotency key
-- ($4, $7).
SELECT g.code IS NOT NULL AS region_known, g.bps_code AS region_bps_code,
       g.name AS region_name, g.type AS region_type, g.parent_code AS region_parent_code,
       i.code IS NOT NULL AS institution_known, i.name AS institution_name,
       i.level AS institution_level, i.node_code AS institution_node_code,
       i.region_code AS institution_region_code, i.active AS institution_active,
       i.source AS institution_source,
       EXISTS (SELECT 1 FROM topics WHERE id = $2) AS topic_known,
       EXISTS (SELECT 1 FROM nodes WHERE code = $4) AS node_known,
       ($5::text IS NULL OR EXISTS (SELECT 1 FROM nodes WHERE code = $5)) AS external_node_known,
       EXISTS (SELECT 1 FROM external_refs WHERE node_code = $5 AND external_id = $6)
           AS external_ref_taken,
       k.request_hash AS seen_hash, k.report_id AS seen_report_id
FROM (SELECT 1) one
LEFT JOIN regions g ON g.code = $1
LEFT JOIN institutions i ON i.code = $3
LEFT JOIN idempotency_keys k ON k.scope = $4 AND k.key = $7

-- name: submission_write
-- One decided submission (hub.domain.core.Submission) in one statement: the report
-- ($1-$24, the columns of hub.domain.core.NewReport), its reporter ($25: whether
-- there is one, $26-$29), the id its node gave it ($30, $31), its first history row,
-- the outbox record as schema.envelope.encode made it ($34-$39), the idempotency
-- record ($40, $41) and the (unsealed) audit entry ($42). A second report with the
-- same external id fails the whole statement on external_refs_pkey.
WITH report AS (
    INSERT INTO reports (id, kind, complaint_sub_kind, title, content, incident_date, location,
                         latitude, longitude, topic_id, tags, channel, anonymous, confidential,
                         origin_node, region_code, institution_code, state, archive_reason,
                         version, sla_rule_version, submitted_at, updated_at, nodes)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
            $19, $20, $21, $22, $23, $24)
    RETURNING id, version, state, origin_node, submitted_at
), reporter AS (
    INSERT INTO reporters (report_id, name, nik, phone, email)
    SELECT id, $26, $27, $28, $29 FROM report WHERE $25::boolean
), ref AS (
    INSERT INTO external_refs (node_code, external_id, report_id)
    SELECT $30, $31, id FROM report WHERE $30::text IS NOT NULL
), history AS (
    INSERT INTO report_history (report_id, version, verb, from_state, to_state, actor_node,
                                actor_role, note, at)
    SELECT id, version, $32, NULL, state, origin_node, $33, NULL, submitted_at FROM report
), event AS (
    INSERT INTO outbox (event_id, report_id, version, event_type, data,
                        record_key, record_value, record_header_names, record_header_values)
    SELECT $34, id, version, $35, convert_from($37, 'UTF8')::jsonb, $36, $37, $38, $39
    FROM report
), remembered AS (
    INSERT INTO idempotency_keys (scope, key, request_hash, report_id, version)
    SELECT origin_node, $40, $41, id, version FROM report WHERE $40::text IS NOT NULL
), audited AS (
    INSERT INTO audit_log (at, client_id, node_code, action, report_id, outcome)
    SELECT submitted_at, $42, origin_node, $32, id, 'OK' FROM report
)
SELECT count(*) FROM report

-- name: reporters_by_reports
SELECT report_id, name, nik, phone, email FROM reporters WHERE report_id = ANY($1::uuid[])

-- name: report_visibility
SELECT confidential, nodes FROM reports WHERE id = $1

-- name: transition_read
-- Everything a transition is decided on, in one statement and without a lock: the
-- report as report_index shows it (null columns: no such report), its disposition
-- chain, the ids nodes gave it, the institution the report may go to (t: the one a
-- Dispose names, $2; else the one that forwarded it here, where a Decline sends it
-- back), and an earlier request with the same idempotency key ($3, $4).
-- transition_write writes only if the version is still the one read here.
SELECT r.*,
       (SELECT d.from_institution FROM dispositions d
        WHERE d.report_id = want.id AND d.seq = 1) AS chain_from,
       ARRAY(SELECT d.to_institution FROM dispositions d
             WHERE d.report_id = want.id ORDER BY d.seq) AS chain_to,
       ARRAY(SELECT e.node_code FROM external_refs e
             WHERE e.report_id = want.id ORDER BY e.node_code) AS ref_nodes,
       ARRAY(SELECT e.external_id FROM external_refs e
             WHERE e.report_id = want.id ORDER BY e.node_code) AS ref_ids,
       t.code AS target_code, t.name AS target_name, t.level AS target_level,
       t.node_code AS target_node_code, t.region_code AS target_region_code,
       t.active AS target_active, t.source AS target_source, k.request_hash AS seen_hash
FROM (SELECT $1::uuid AS id) want
LEFT JOIN report_index r ON r.id = want.id
LEFT JOIN institutions t ON t.code = coalesce($2, (
    SELECT d.from_institution FROM dispositions d
    WHERE d.report_id = want.id ORDER BY d.seq DESC LIMIT 1))
LEFT JOIN idempotency_keys k ON k.scope = $3 AND k.key = $4

-- name: transition_write
-- One decided transition (hub.domain.core.Change) in one statement: the report,
-- the nodes involved in it ($30), its history row, a disposition link (a decline
-- when $31), a follow-up or the reporter's reply ($32), the outbox record as schema.envelope.encode made it, the idempotency
-- record and the (unsealed) audit entry. Nothing is written unless the report is still at version $2;
-- the count says whether it was.
WITH moved AS (
    UPDATE reports
    SET state = $3, version = $4, institution_code = $5, archive_reason = $6,
        anonymous = $7, confidential = $8, updated_at = $9, nodes = $30
    WHERE id = $1 AND version = $2
    RETURNING id, version
), history AS (
    INSERT INTO report_history (report_id, version, verb, from_state, to_state, actor_node,
                                actor_role, note, at)
    SELECT id, version, $10, $11, $3, $12, $13, $14, $9 FROM moved
), link AS (
    INSERT INTO dispositions (report_id, seq, from_institution, to_institution, note,
                              actor_node, at, declined)
    SELECT id, $15, $16, $17, $18, $12, $9, $31 FROM moved WHERE $15::integer IS NOT NULL
), follow_up AS (
    INSERT INTO follow_ups (report_id, institution_code, content, actor_node, at)
    SELECT id, $20, $19, $12, $9 FROM moved WHERE $19::text IS NOT NULL
), reply AS (
    INSERT INTO replies (report_id, content, actor_node, at)
    SELECT id, $32, $12, $9 FROM moved WHERE $32::text IS NOT NULL
), event AS (
    INSERT INTO outbox (event_id, report_id, version, event_type, data,
                        record_key, record_value, record_header_names, record_header_values)
    SELECT $21, id, version, $22, convert_from($24, 'UTF8')::jsonb, $23, $24, $25, $26
    FROM moved
), remembered AS (
    INSERT INTO idempotency_keys (scope, key, request_hash, report_id, version)
    SELECT $12, $27, $28, id, version FROM moved WHERE $27::text IS NOT NULL
), audited AS (
    INSERT INTO audit_log (at, client_id, node_code, action, report_id, outcome)
    SELECT $9, $29, $12, $10, id, 'OK' FROM moved
)
SELECT count(*) FROM moved
