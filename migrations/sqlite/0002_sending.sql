-- An attempt whose originate was about to be sent: without this stamp,
-- nothing was ever dialed under its id, and the lead can be requeued.
ALTER TABLE attempts ADD COLUMN sending_at INTEGER;
