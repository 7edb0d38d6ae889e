-- Who is involved in a report, kept with the report: the domain core decides it
-- with every change (hub.domain.core.involvement) and the event carries it, so the
-- sinks, the content directory, privacy and authorisation all read one answer.
-- It replaces report_nodes(), which computed it again on every read (and left
-- out the national node, which the sinks and the directory then added back).
ALTER TABLE reports ADD COLUMN nodes text[];

UPDATE reports r SET nodes = ARRAY(
    SELECT DISTINCT n FROM unnest(report_nodes(r.id) || 'lapor'::text) AS n
    WHERE n IS NOT NULL ORDER BY n
);

ALTER TABLE reports ALTER COLUMN nodes SET NOT NULL,
    ADD CONSTRAINT reports_nodes_named CHECK (cardinality(nodes) > 0);

DROP VIEW report_index;
CREATE VIEW report_index AS
SELECT r.id, r.kind, r.complaint_sub_kind, r.title, r.content, r.incident_date, r.location,
       r.latitude, r.longitude, r.topic_id, r.tags, r.channel, r.anonymous, r.confidential,
       r.origin_node, r.region_code, r.institution_code, r.state, r.archive_reason, r.version,
       r.sla_rule_version, r.submitted_at, r.updated_at, r.nodes,
       g.bps_code AS region_bps_code, g.name AS region_name, g.type AS region_type,
       g.parent_code AS region_parent_code,
       i.name AS institution_name, i.level AS institution_level,
       i.node_code AS institution_node_code, i.region_code AS institution_region_code
FROM reports r
JOIN regions g ON g.code = r.region_code
JOIN institutions i ON i.code = r.institution_code;

DROP FUNCTION report_nodes(uuid);
