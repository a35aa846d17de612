-- Flags are never stale: a run evaluates the rules whenever the sets, the config, the as-of date
-- or the rules' code differ from what the current flags were computed from. What the sets were
-- is a watermark stored with the run that evaluated them, so the decision rests on what is
-- stored, not on what the run before did (an `ingest` between two runs, a run killed after it
-- stored files but before the rules).
ALTER TABLE runs ADD COLUMN sets_watermark VARCHAR;
ALTER TABLE runs ADD COLUMN rules_sha256 VARCHAR;
COMMENT ON COLUMN runs.sets_watermark IS 'The stored sets the rules saw (their count and a checksum of their run ids and sessions); null when the rules did not run.';
COMMENT ON COLUMN runs.rules_sha256 IS 'Fingerprint of the rules'' code the run evaluated them with; null when the rules did not run. An upgrade that changes it re-runs the rules.';

-- A run that fails (an error in the rules, a full disk) records `failed` and why.
ALTER TABLE runs ADD COLUMN error VARCHAR;
COMMENT ON COLUMN runs.error IS 'Why the run failed (status failed), with any password in a connection string redacted; null otherwise.';
