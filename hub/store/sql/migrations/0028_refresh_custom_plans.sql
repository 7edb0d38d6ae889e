-- ministry_refresh is planned at each call, for the reports it is given and the tables
-- as they are then. It kept one generic plan per connection from its first call, which
-- migration 0005 chose when the write path refreshed one report per statement. Its
-- callers now refresh a projection pass or a bulk batch at a time, so planning each
-- call costs little; and a plan kept from a first call on a nearly empty index (a scan
-- of all history per report, right for a table of one page) made a 5,000-report
-- refresh of a first import run for over ten minutes once report_history had grown.
ALTER FUNCTION ministry_refresh(uuid[]) SET plan_cache_mode = force_custom_plan;
