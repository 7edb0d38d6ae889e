-- The write path's storage (bench/RESULTS.md, "write path: what each index and row
-- costs"): fewer index entries per change, same guarantees.

-- An audit entry is appended unsealed (seq and hash NULL) and sealed once. Unique
-- constraints on seq and hash indexed every unsealed entry's NULLs as well: two
-- index entries per change that no reader uses and that can never conflict. Their
-- uniqueness holds for what it protects, the sealed entries; the sealer's reads
-- (the head by seq, the chain in seq order) use the seq index as before.
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq) WHERE seq IS NOT NULL;
CREATE UNIQUE INDEX audit_log_hash ON audit_log (hash) WHERE hash IS NOT NULL;
ALTER TABLE audit_log DROP CONSTRAINT audit_log_seq_key, DROP CONSTRAINT audit_log_hash_key;

-- Every transition rewrites its report's row. With full pages the new version
-- lands on another page (an extension of the table under its lock when the free
-- space map has nothing), its WAL record carries the whole row, and an update that
-- could be HOT (no indexed column changed) is not. A tenth of each page kept free
-- lets the new version stay beside the old. Pages written from now on keep it;
-- existing pages gain it when VACUUM FULL or pg_repack rewrites the table.
ALTER TABLE reports SET (fillfactor = 90);
