-- Reports marked as duplicates of another (hub/domain/duplicates.py): the duplicate is
-- archived with reason DUPLICATE through the write path; this row links it to its
-- original, which took over the duplicate's external references.
CREATE TABLE report_duplicates (
    report_id   uuid PRIMARY KEY REFERENCES reports (id),
    original_id uuid NOT NULL REFERENCES reports (id),
    marked_at   timestamptz NOT NULL,
    marked_by   text NOT NULL,
    CHECK (report_id <> original_id)
);
CREATE INDEX report_duplicates_original ON report_duplicates (original_id);
