-- When the agent took the answered call (ms since the epoch, UTC): its
-- answer-to-agent time, and whether it was a drop (the abandon ledger).
ALTER TABLE attempts ADD COLUMN agent_at BIGINT NULL;
