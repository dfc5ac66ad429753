-- The CDR table cdr_pgsql writes into (Asterisk's contrib schema, plus the
-- columns FreePBX-era tools expect). cdr_pgsql reads the column list at load
-- and fills `calldate` with the CDR start.
CREATE TABLE IF NOT EXISTS cdr (
  calldate timestamp NOT NULL DEFAULT now(),
  clid varchar(80) NOT NULL DEFAULT '',
  src varchar(80) NOT NULL DEFAULT '',
  dst varchar(80) NOT NULL DEFAULT '',
  dcontext varchar(80) NOT NULL DEFAULT '',
  channel varchar(80) NOT NULL DEFAULT '',
  dstchannel varchar(80) NOT NULL DEFAULT '',
  lastapp varchar(80) NOT NULL DEFAULT '',
  lastdata varchar(80) NOT NULL DEFAULT '',
  duration bigint NOT NULL DEFAULT 0,
  billsec bigint NOT NULL DEFAULT 0,
  disposition varchar(45) NOT NULL DEFAULT '',
  amaflags bigint NOT NULL DEFAULT 0,
  accountcode varchar(20) NOT NULL DEFAULT '',
  uniqueid varchar(150) NOT NULL DEFAULT '',
  userfield varchar(255) NOT NULL DEFAULT '',
  peeraccount varchar(20) NOT NULL DEFAULT '',
  linkedid varchar(150) NOT NULL DEFAULT '',
  sequence int NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS cdr_calldate ON cdr (calldate);
CREATE INDEX IF NOT EXISTS cdr_dst ON cdr (dst);
GRANT SELECT, INSERT ON cdr TO asterisk;
