-- The actor role NODE_SYSTEM (a node's own system: changes its connector pulled,
-- submissions synced from it) was split from SYSTEM (the hub's own jobs: the
-- auto-close). History written before recorded both as SYSTEM, so pulled
-- completions counted as auto-closed and write-backs could not tell a node's own
-- changes. Every SYSTEM row but the auto-close's own is the node's system.
-- (History is append-only; this one correction disables the guard for itself.)
ALTER TABLE report_history DISABLE TRIGGER report_history_append_only;

UPDATE report_history SET actor_role = 'NODE_SYSTEM'
WHERE actor_role = 'SYSTEM'
  AND NOT (verb = 'COMPLETE'
           AND note IS NOT DISTINCT FROM
               'Ditutup otomatis: tidak ada tanggapan dalam 10 hari kerja.');

ALTER TABLE report_history ENABLE TRIGGER report_history_append_only;

-- The auto-closed figures were counted from the old roles.
SELECT ministry_rebuild();
