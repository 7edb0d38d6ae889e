-- A decline ("Bukan Wewenang") is a link of the disposition chain like any other,
-- from the institution that declines back to the one that forwarded the report.
ALTER TABLE dispositions ADD COLUMN declined boolean NOT NULL DEFAULT false;
