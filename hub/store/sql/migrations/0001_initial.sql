-- The canonical index of every report the federation knows.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE regions (
    code        text PRIMARY KEY,              -- Kemendagri, e.g. 16.71
    bps_code    text NOT NULL UNIQUE,          -- BPS, e.g. 1671; never derived from code
    name        text NOT NULL,
    type        text NOT NULL CHECK (type IN ('PROVINCE', 'KABUPATEN', 'KOTA')),
    parent_code text REFERENCES regions (code)
);

CREATE TABLE nodes (
    code        text PRIMARY KEY,
    name        text NOT NULL,
    level       text NOT NULL CHECK (level IN ('REGENCY', 'PROVINCE', 'NATIONAL')),
    region_code text REFERENCES regions (code)
);

CREATE TABLE institutions (
    code        text PRIMARY KEY,
    name        text NOT NULL,
    level       text NOT NULL,
    node_code   text NOT NULL REFERENCES nodes (code),
    region_code text REFERENCES regions (code)
);

CREATE TABLE topics (
    id        integer PRIMARY KEY,
    parent_id integer REFERENCES topics (id),
    name      text NOT NULL
);

CREATE TABLE sla_rules (
    version      text NOT NULL,
    stage        text NOT NULL,
    kind         text,
    sub_kind     text,
    working_days integer NOT NULL CHECK (working_days > 0),
    source       text NOT NULL,
    UNIQUE NULLS NOT DISTINCT (version, stage, kind, sub_kind)
);

CREATE TABLE reports (
    id                 uuid PRIMARY KEY,
    kind               text NOT NULL CHECK (kind IN ('ASPIRATION', 'COMPLAINT', 'INFORMATION_REQUEST')),
    complaint_sub_kind text CHECK (complaint_sub_kind IN ('SUPERVISORY', 'NON_SUPERVISORY')),
    title              text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    content            text NOT NULL CHECK (length(content) BETWEEN 1 AND 10000),
    incident_date      date,
    location           text,
    latitude           double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude          double precision CHECK (longitude BETWEEN -180 AND 180),
    topic_id           integer NOT NULL REFERENCES topics (id),
    tags               text[] NOT NULL DEFAULT '{}',
    channel            text NOT NULL,
    anonymous          boolean NOT NULL DEFAULT false,
    confidential       boolean NOT NULL DEFAULT false,
    origin_node        text NOT NULL REFERENCES nodes (code),
    region_code        text NOT NULL REFERENCES regions (code),
    institution_code   text NOT NULL REFERENCES institutions (code),
    state              text NOT NULL CHECK (state IN ('SUBMITTED', 'POSTPONED', 'VERIFIED',
                           'DISPOSED', 'IN_FOLLOW_UP', 'COMPLETED', 'ARCHIVED')),
    archive_reason     text,
    version            integer NOT NULL CHECK (version >= 1),
    sla_rule_version   text NOT NULL,
    submitted_at       timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    CHECK ((kind = 'COMPLAINT') = (complaint_sub_kind IS NOT NULL)),
    CHECK ((state = 'ARCHIVED') = (archive_reason IS NOT NULL))
);

CREATE INDEX reports_page ON reports (submitted_at DESC, id DESC);
CREATE INDEX reports_region ON reports (region_code, submitted_at DESC, id DESC);
CREATE INDEX reports_institution ON reports (institution_code, submitted_at DESC, id DESC);
CREATE INDEX reports_state ON reports (state, submitted_at DESC, id DESC);
CREATE INDEX reports_title_trgm ON reports USING gin (title gin_trgm_ops);

-- Personal data lives apart from the report, so no join brings it along by accident.
CREATE TABLE reporters (
    report_id uuid PRIMARY KEY REFERENCES reports (id),
    name      text,
    nik       text CHECK (nik ~ '^[0-9]{16}$'),
    phone     text,
    email     text
);

CREATE TABLE dispositions (
    report_id        uuid NOT NULL REFERENCES reports (id),
    seq              integer NOT NULL CHECK (seq >= 1),
    from_institution text REFERENCES institutions (code),
    to_institution   text NOT NULL REFERENCES institutions (code),
    note             text,
    actor_node       text NOT NULL REFERENCES nodes (code),
    at               timestamptz NOT NULL,
    PRIMARY KEY (report_id, seq)
);

CREATE TABLE follow_ups (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id        uuid NOT NULL REFERENCES reports (id),
    institution_code text NOT NULL REFERENCES institutions (code),
    content          text NOT NULL,
    actor_node       text NOT NULL REFERENCES nodes (code),
    at               timestamptz NOT NULL
);
CREATE INDEX follow_ups_report ON follow_ups (report_id, id);

CREATE TABLE report_history (
    report_id  uuid NOT NULL REFERENCES reports (id),
    version    integer NOT NULL,
    verb       text NOT NULL,
    from_state text,
    to_state   text NOT NULL,
    actor_node text NOT NULL REFERENCES nodes (code),
    actor_role text NOT NULL,
    note       text,
    at         timestamptz NOT NULL,
    PRIMARY KEY (report_id, version)
);

CREATE TABLE external_refs (
    node_code   text NOT NULL REFERENCES nodes (code),
    external_id text NOT NULL,
    report_id   uuid NOT NULL REFERENCES reports (id),
    PRIMARY KEY (node_code, external_id)
);
CREATE INDEX external_refs_report ON external_refs (report_id);

CREATE TABLE idempotency_keys (
    scope        text NOT NULL,               -- the caller's node: keys are theirs, not global
    key          text NOT NULL,
    request_hash text NOT NULL,
    report_id    uuid NOT NULL,
    version      integer NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);

CREATE TABLE outbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     uuid NOT NULL UNIQUE,
    report_id    uuid NOT NULL,
    version      integer NOT NULL,
    event_type   text NOT NULL,
    data         jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- History and disposition chains are append-only: a re-disposition adds a link.
CREATE FUNCTION forbid_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER report_history_append_only BEFORE UPDATE OR DELETE ON report_history
    FOR EACH ROW EXECUTE FUNCTION forbid_rewrite();
CREATE TRIGGER dispositions_append_only BEFORE UPDATE OR DELETE ON dispositions
    FOR EACH ROW EXECUTE FUNCTION forbid_rewrite();
CREATE TRIGGER follow_ups_append_only BEFORE UPDATE OR DELETE ON follow_ups
    FOR EACH ROW EXECUTE FUNCTION forbid_rewrite();
