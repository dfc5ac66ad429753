-- The dialer's app database (SQLite). Times are milliseconds since the Unix
-- epoch (UTC). See src/dialer/store.rs for what each column means.
CREATE TABLE campaigns (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  definition TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'stopped',
  acked_status TEXT NOT NULL DEFAULT 'stopped',
  acked_by TEXT,
  acked_at INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE TABLE leads (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
  number TEXT NOT NULL,
  data TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_outcome TEXT,
  updated_at INTEGER NOT NULL,
  UNIQUE (campaign_id, number)
);
CREATE INDEX leads_due ON leads (campaign_id, state, next_attempt_at, id);
CREATE TABLE attempts (
  id TEXT PRIMARY KEY,
  lead_id INTEGER NOT NULL REFERENCES leads (id),
  campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
  engine_id TEXT NOT NULL,
  number TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  originated_at INTEGER,
  answered_at INTEGER,
  ended_at INTEGER,
  outcome TEXT,
  hangup_cause INTEGER,
  agent TEXT
);
CREATE INDEX attempts_live ON attempts (campaign_id, ended_at);
CREATE INDEX attempts_lead ON attempts (lead_id);
CREATE TABLE dnc (
  number TEXT PRIMARY KEY,
  added_at INTEGER NOT NULL
);
CREATE TABLE audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  login TEXT NOT NULL,
  action TEXT NOT NULL,
  campaign TEXT,
  detail TEXT NOT NULL
);
CREATE TABLE engines (
  id TEXT PRIMARY KEY,
  started_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  state TEXT NOT NULL
);
