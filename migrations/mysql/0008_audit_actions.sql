-- One audit trail for campaign intents and supervisor actions: the PBX
-- acted on, what was acted on (a member in a queue, a channel), the result
-- (sent: asked of Asterisk, no answer recorded yet; ok; failed; refused)
-- and Asterisk's own answer. Campaign rows keep campaign and detail.
ALTER TABLE audit ADD COLUMN pbx VARCHAR(64) NULL;
ALTER TABLE audit ADD COLUMN target VARCHAR(255) NULL;
ALTER TABLE audit ADD COLUMN result VARCHAR(16) NOT NULL DEFAULT 'ok';
ALTER TABLE audit ADD COLUMN answer TEXT NULL;
CREATE INDEX audit_at ON audit (at);
