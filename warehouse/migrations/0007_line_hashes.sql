-- Each set (and each rejected row) remembers a 128-bit hash of the input row it came from (two independent 64-bit
-- halves), seeded by everything else that decides how that row validates. A re-export then
-- skips validating and merging the rows it already stored (flows/reexport.py). Sets stored
-- before this migration have none; the next load of their rows fills them in.

ALTER TABLE sets ADD COLUMN line_hash UBIGINT;
ALTER TABLE sets ADD COLUMN line_check UBIGINT;
COMMENT ON COLUMN sets.line_hash IS 'Hash of the input row the set was last read from, with its settings and code (schemas/row_hash.py); used to skip re-exported rows.';
COMMENT ON COLUMN sets.line_check IS 'A second, independent hash of the same row, so that one 64-bit collision can never pass a new set for a stored one.';

-- A rejected row keeps its hash too: a re-export's known bad rows are rejected again with the
-- stored reasons, without pydantic explaining them again.
ALTER TABLE rejects ADD COLUMN line_hash UBIGINT;
ALTER TABLE rejects ADD COLUMN line_check UBIGINT;
COMMENT ON COLUMN rejects.line_hash IS 'Hash of the row, as sets.line_hash; null for a structure error or a key repeated in the file, whose reasons depend on more than the row.';
COMMENT ON COLUMN rejects.line_check IS 'The second hash of the row, as sets.line_check.';
