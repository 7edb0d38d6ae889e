-- The institutions directory (hub/domain/institutions.py): admins add, rename and
-- deactivate institutions; a deactivated one keeps its history and the reports it
-- holds, and takes no new disposition or submission. changed_at moves with every
-- edit (the response cache watches it); source says where a row comes from.
ALTER TABLE institutions
    ADD COLUMN active         boolean NOT NULL DEFAULT true,
    ADD COLUMN source         text,
    ADD COLUMN changed_at     timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN changed_by     text,
    ADD COLUMN inactive_since timestamptz,
    ADD COLUMN inactive_note  text,
    ADD CONSTRAINT institutions_inactive CHECK (active = (inactive_since IS NULL));

-- Listing by region and level, and finding by a few letters of the name.
CREATE INDEX institutions_region_level ON institutions (region_code, level, code);
CREATE INDEX institutions_name_trgm ON institutions USING gin (lower(name) gin_trgm_ops);

-- A report shows whether its institution still takes reports, and where its entry
-- comes from (new columns at the end: the view's other columns stay as they were).
CREATE OR REPLACE VIEW report_index AS
SELECT r.id, r.kind, r.complaint_sub_kind, r.title, r.content, r.incident_date, r.location,
       r.latitude, r.longitude, r.topic_id, r.tags, r.channel, r.anonymous, r.confidential,
       r.origin_node, r.region_code, r.institution_code, r.state, r.archive_reason, r.version,
       r.sla_rule_version, r.submitted_at, r.updated_at, r.nodes,
       g.bps_code AS region_bps_code, g.name AS region_name, g.type AS region_type,
       g.parent_code AS region_parent_code,
       i.name AS institution_name, i.level AS institution_level,
       i.node_code AS institution_node_code, i.region_code AS institution_region_code,
       i.active AS institution_active, i.source AS institution_source
FROM reports r
JOIN regions g ON g.code = r.region_code
JOIN institutions i ON i.code = r.institution_code;
