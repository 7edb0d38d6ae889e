-- Encode once: each outbox row holds the CloudEvents record the relay sends, as
-- the writer encoded it (hub.sync.envelope.encode) in the same INSERT: the key,
-- the value and the headers (names and values side by side, in order). The relay
-- publishes these bytes as they are, without parsing or encoding again.
--
-- `data` stays (operators and tests query it); writers derive it from the value
-- in the INSERT, so there is no second encoding.
--
-- Rows written before this migration have no record (all four NULL): they are
-- not backfilled here, because SQL would be a second codec whose bytes differ
-- from the encoder's; the relay encodes those from `data` with the one encoder.
ALTER TABLE outbox
    ADD COLUMN record_key           bytea,
    ADD COLUMN record_value         bytea,
    ADD COLUMN record_header_names  text[],
    ADD COLUMN record_header_values bytea[],
    ADD CONSTRAINT outbox_record_whole CHECK (
        (record_key IS NULL) = (record_value IS NULL)
        AND (record_key IS NULL) = (record_header_names IS NULL)
        AND (record_key IS NULL) = (record_header_values IS NULL)
        AND cardinality(record_header_names) = cardinality(record_header_values)
    );
