-- A number's last drop, looked up before calling it again (UK practice:
-- not within 72 hours of an abandoned call).
CREATE INDEX attempts_number ON attempts (number, answered_at);
