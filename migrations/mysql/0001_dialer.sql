-- The dialer's app database (MariaDB/MySQL). Times are milliseconds since the Unix
-- epoch (UTC). See src/dialer/store.rs for what each column means.
CREATE TABLE campaigns (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(100) NOT NULL UNIQUE,
  definition TEXT NOT NULL,
  status VARCHAR(16) NOT NULL DEFAULT 'stopped',
  acked_status VARCHAR(16) NOT NULL DEFAULT 'stopped',
  acked_by VARCHAR(100),
  acked_at BIGINT,
  updated_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE leads (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
  number VARCHAR(32) NOT NULL,
  data TEXT NOT NULL,
  state VARCHAR(16) NOT NULL DEFAULT 'pending',
  attempts BIGINT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL DEFAULT 0,
  last_outcome VARCHAR(16),
  updated_at BIGINT NOT NULL,
  UNIQUE (campaign_id, number)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE INDEX leads_due ON leads (campaign_id, state, next_attempt_at, id);
CREATE TABLE attempts (
  id VARCHAR(64) NOT NULL PRIMARY KEY,
  lead_id BIGINT NOT NULL REFERENCES leads (id),
  campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
  engine_id VARCHAR(100) NOT NULL,
  number VARCHAR(32) NOT NULL,
  created_at BIGINT NOT NULL,
  originated_at BIGINT,
  answered_at BIGINT,
  ended_at BIGINT,
  outcome VARCHAR(16),
  hangup_cause BIGINT,
  agent VARCHAR(64)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE INDEX attempts_live ON attempts (campaign_id, ended_at);
CREATE INDEX attempts_lead ON attempts (lead_id);
CREATE TABLE dnc (
  number VARCHAR(32) PRIMARY KEY,
  added_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE audit (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  at BIGINT NOT NULL,
  login VARCHAR(64) NOT NULL,
  action VARCHAR(32) NOT NULL,
  campaign VARCHAR(100),
  detail TEXT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE engines (
  id VARCHAR(64) NOT NULL PRIMARY KEY,
  started_at BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL,
  state VARCHAR(255) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
