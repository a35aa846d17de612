-- Readers get fixed (Strong's WARM_UP read as a working set, FitNotes rows with a comma in the
-- name rejected). Each file remembers the version of the reader that read it, so that a change a
-- fixed reader makes is told apart from a lifter's edit, and `repflow reload` can re-read the
-- files an older reader read.

ALTER TABLE ingested_files ADD COLUMN reader_version INTEGER;
COMMENT ON COLUMN ingested_files.reader_version IS 'Version of the reader of the file''s format that read it (sources/<format>.py VERSION); null: read before versions were recorded, as version 1.';

CREATE TABLE set_corrections (
    source_format         VARCHAR NOT NULL,
    athlete_id            VARCHAR NOT NULL,
    performed_at          TIMESTAMPTZ NOT NULL,
    exercise_key          VARCHAR NOT NULL,
    set_index             INTEGER NOT NULL,
    change                VARCHAR NOT NULL,
    set_type              VARCHAR NOT NULL,
    reps                  INTEGER,
    load_kg               DOUBLE NOT NULL,
    load_unit             VARCHAR NOT NULL,
    rpe                   DOUBLE,
    duration_s            DOUBLE,
    distance_m            DOUBLE,
    file_id               VARCHAR NOT NULL,
    source_line           BIGINT NOT NULL,
    reader_version_before INTEGER NOT NULL,
    corrected_by_file_id  VARCHAR NOT NULL,
    reader_version        INTEGER NOT NULL,
    run_id                VARCHAR NOT NULL,
    corrected_at          TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE set_corrections IS 'Old values of sets that a fixed reader changed or removed (a warm-up stored as a working set, a row that is not a set): corrections of ours, kept apart from the lifter''s edits in set_revisions.';
COMMENT ON COLUMN set_corrections.source_format IS 'Natural key: format.';
COMMENT ON COLUMN set_corrections.athlete_id IS 'Natural key: athlete.';
COMMENT ON COLUMN set_corrections.performed_at IS 'Natural key: when, in UTC, to the second.';
COMMENT ON COLUMN set_corrections.exercise_key IS 'Natural key: normalised exercise name.';
COMMENT ON COLUMN set_corrections.set_index IS 'Natural key: set number.';
COMMENT ON COLUMN set_corrections.change IS 'changed (the set now has other values) or removed (the fixed reader finds no such set: a rest period, a row with nothing logged).';
COMMENT ON COLUMN set_corrections.set_type IS 'The old set type.';
COMMENT ON COLUMN set_corrections.reps IS 'The old reps.';
COMMENT ON COLUMN set_corrections.load_kg IS 'The old load in kg.';
COMMENT ON COLUMN set_corrections.load_unit IS 'The old unit of the lifter.';
COMMENT ON COLUMN set_corrections.rpe IS 'The old RPE.';
COMMENT ON COLUMN set_corrections.duration_s IS 'The old duration in seconds.';
COMMENT ON COLUMN set_corrections.distance_m IS 'The old distance in metres.';
COMMENT ON COLUMN set_corrections.file_id IS 'The file the old values came from.';
COMMENT ON COLUMN set_corrections.source_line IS 'The line of that file.';
COMMENT ON COLUMN set_corrections.reader_version_before IS 'Version of the reader that read the old values.';
COMMENT ON COLUMN set_corrections.corrected_by_file_id IS 'The file whose reading corrected the set: the same file re-read (repflow reload), or a later export overlapping it.';
COMMENT ON COLUMN set_corrections.reader_version IS 'Version of the reader that corrected it.';
COMMENT ON COLUMN set_corrections.run_id IS 'Run that made the correction.';
COMMENT ON COLUMN set_corrections.corrected_at IS 'When the correction was stored.';
