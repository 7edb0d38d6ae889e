-- A report with the names of its region and current institution, so a page of
-- reports is one statement and its region and institution need no second trip.
CREATE VIEW report_index AS
SELECT r.id, r.kind, r.complaint_sub_kind, r.title, r.content, r.incident_date, r.location,
       r.latitude, r.longitude, r.topic_id, r.tags, r.channel, r.anonymous, r.confidential,
       r.origin_node, r.region_code, r.institution_code, r.state, r.archive_reason, r.version,
       r.sla_rule_version, r.submitted_at, r.updated_at,
       g.bps_code AS region_bps_code, g.name AS region_name, g.type AS region_type,
       g.parent_code AS region_parent_code,
       i.name AS institution_name, i.level AS institution_level,
       i.node_code AS institution_node_code, i.region_code AS institution_region_code
FROM reports r
JOIN regions g ON g.code = r.region_code
JOIN institutions i ON i.code = r.institution_code;
