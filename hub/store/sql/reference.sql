-- Seed rows are inserted once; later edits in the database win over the seed.

-- name: seed_region
INSERT INTO regions (code, bps_code, name, type, parent_code)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (code) DO NOTHING

-- name: seed_node
INSERT INTO nodes (code, name, level, region_code)
VALUES ($1, $2, $3, $4)
ON CONFLICT (code) DO NOTHING

-- name: seed_institution
-- A seed row once; a row seeded before sources were kept learns its source.
INSERT INTO institutions (code, name, level, node_code, region_code, source)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (code) DO UPDATE SET source = EXCLUDED.source WHERE institutions.source IS NULL

-- name: seed_topic
INSERT INTO topics (id, parent_id, name)
VALUES ($1, $2, $3)
ON CONFLICT (id) DO NOTHING

-- name: seed_sla_rule
INSERT INTO sla_rules (version, stage, kind, sub_kind, working_days, source)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (version, stage, kind, sub_kind) DO NOTHING

-- name: list_regions
SELECT code, bps_code, name, type, parent_code FROM regions ORDER BY code

-- name: list_nodes
SELECT code, name, level, region_code FROM nodes ORDER BY level DESC, code


-- name: list_topics
SELECT id, parent_id, name FROM topics ORDER BY id

-- name: regions_by_code
SELECT code, bps_code, name, type, parent_code FROM regions WHERE code = ANY($1::text[])

-- name: nodes_by_code
SELECT code, name, level, region_code FROM nodes WHERE code = ANY($1::text[])

-- name: institutions_by_code
SELECT code, name, level, node_code, region_code, active, source FROM institutions
WHERE code = ANY($1::text[])

-- name: topics_by_id
SELECT id, parent_id, name FROM topics WHERE id = ANY($1::int[])
