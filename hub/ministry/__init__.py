"""The ministry view: SLA deadlines on working days, compliance figures, ranking, export.

Definitions (the SQL of migration 0005 and ``hub/ministry/ministry.sql`` follow
them; working days, due days and working days taken are defined in
``schema.calendar``):

- **Stages** (``schema.sla.SlaStage``), each judged by the rule version the report
  records (``reports.sla_rule_version``), the most specific rule of that version
  for the report's kind and sub-kind:

  - VERIFY: from submission to the first entry into VERIFIED or DISPOSED.
  - FIRST_FOLLOW_UP: from the first entry into DISPOSED to the first entry into
    IN_FOLLOW_UP. Not started until the report is disposed.
  - COMPLETION: from submission to the first entry into COMPLETED; a later
    reopening is recorded in the history but does not undo the measured completion.
  - AUTO_CLOSE: runs while the report is IN_FOLLOW_UP and its last change was a
    follow-up (no reply from the reporter or an admin since); when it falls due,
    ``AutoCloser`` completes the report as the SYSTEM actor.

  A stage is MET when it ended by its due time, LATE when it ended after it,
  OVERDUE when it is still running after it (breached at the due time), PENDING
  when it is running before it, NOT_APPLICABLE when it can no longer end (the
  report was archived first) and NO_RULE when the rule version has no rule for it.
  POSTPONED does not stop the clock.
- **Durations** are working days taken (whole working days, WIB); medians and
  p90s are nearest-rank (``percentile_disc``) over the stages that ended.
- **Share within the limit** of a stage: MET / (MET + LATE + OVERDUE); pending
  and not-applicable stages are left out.
- **Period**: the reports submitted in [from, to), both WIB dates. Every figure
  of a period is about those reports, whenever their stages ended.
- **Grouping**: a report counts for its current region, institution (after the
  last disposition), kind, topic and state, and its month of submission (WIB).
- **Privacy**: figures are counts and durations only; no title, content, location,
  tag, reporter identity or report id appears in any figure or export.
  Confidential and anonymous reports count in every total. A group with fewer
  reports than ``MinistrySettings.suppress_below`` is suppressed (its figures are
  withheld); when that leaves exactly one suppressed group beside a published
  total, the next smallest group is suppressed too, so no group can be recovered
  by subtraction.
- **Ranking** (per institution of a level): the score is the mean of the shares a
  ministry evaluator reads first: verified within the limit, first follow-up
  within the limit, completed within the limit, and completed; shares without
  any decided stage are left out of the mean. Higher is better; ties go to the
  institution with more reports, then to the lower code. Suppressed institutions
  are listed unranked.
"""
