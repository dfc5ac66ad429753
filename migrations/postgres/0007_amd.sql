-- Answering-machine detection: AMD()'s verdict for the attempt (HUMAN,
-- MACHINE, NOTSURE, HANGUP), and when it came (ms since the epoch, UTC):
-- the end of the customer's greeting, where the 2-second clock starts. A
-- machine is left out of the abandon ledger.
ALTER TABLE attempts ADD COLUMN amd_status VARCHAR(16) NULL;
ALTER TABLE attempts ADD COLUMN greeted_at BIGINT NULL;
