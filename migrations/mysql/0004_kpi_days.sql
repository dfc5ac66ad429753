-- Per-extension KPIs of closed days, computed once (cdr::kpi_cache): the
-- figures (JSON) with the CDR rows they were computed from (count and last
-- uniqueid of the day), so a day whose rows changed is computed again.
CREATE TABLE kpi_days (
  source VARCHAR(64) NOT NULL,
  day CHAR(10) NOT NULL,
  legs BIGINT NOT NULL,
  last_uniqueid VARCHAR(150) NOT NULL,
  figures MEDIUMTEXT NOT NULL,
  computed_at BIGINT NOT NULL,
  PRIMARY KEY (source, day)
) DEFAULT CHARSET=utf8mb4;
