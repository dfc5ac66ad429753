-- The dialer's app database (PostgreSQL). Times are milliseconds since the Unix
-- epoch (UTC). See src/dialer/store.rs for what each column means.
CREATE TABLE campaigns (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  definition TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'stopped',
  acked_status TEXT NOT NULL DEFAULT 'stopped',
  acked_by TEXT,
  acked_at BIGINT,
  updated_at BIGINT NOT NULL
);
CREATE TABLE leads (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
  number TEXT NOT NULL,
  data TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts BIGINT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL DEFAULT 0,
  last_outcome TEXT,
  updated_at BIGINT NOT NULL,
  UNIQUE (campaign_id, number)
);
CREATE INDEX leads_due ON leads (campaign_id, state, next_attempt_at, id);
CREATE TABLE attempts (
  id TEXT PRIMARY KEY,
  lead_id BIGINT NOT NULL REFERENCES leads (id),
  campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
  engine_id TEXT NOT NULL,
  number TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  originated_at BIGINT,
  answered_at BIGINT,
  ended_at BIGINT,
  outcome TEXT,
  hangup_cause BIGINT,
  agent TEXT
);
CREATE INDEX attempts_live ON attempts (campaign_id, ended_at);
CREATE INDEX attempts_lead ON attempts (lead_id);
CREATE TABLE dnc (
  number TEXT PRIMARY KEY,
  added_at BIGINT NOT NULL
);
CREATE TABLE audit (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at BIGINT NOT NULL,
  login TEXT NOT NULL,
  action TEXT NOT NULL,
  campaign TEXT,
  detail TEXT NOT NULL
);
CREATE TABLE engines (
  id TEXT PRIMARY KEY,
  started_at BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL,
  state TEXT NOT NULL
);
