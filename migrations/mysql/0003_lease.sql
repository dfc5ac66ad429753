-- One engine per id: the holder of the lease (a token, valid until
-- lease_until, ms) is the only engine with that id that may dial.
ALTER TABLE engines ADD COLUMN lease_token VARCHAR(64) NULL;
ALTER TABLE engines ADD COLUMN lease_until BIGINT NULL;
