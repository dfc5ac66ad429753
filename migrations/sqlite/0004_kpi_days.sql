-- Per-extension KPIs of closed days, computed once (cdr::kpi_cache): the
-- figures (JSON) with the CDR rows they were computed from (count and last
-- uniqueid of the day), so a day whose rows changed is computed again.
CREATE TABLE kpi_days (
  source TEXT NOT NULL,
  day TEXT NOT NULL,
  legs INTEGER NOT NULL,
  last_uniqueid TEXT NOT NULL,
  figures TEXT NOT NULL,
  computed_at INTEGER NOT NULL,
  PRIMARY KEY (source, day)
);
