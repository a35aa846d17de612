-- The core tables. No primary keys, unique constraints or indexes: the SQL stays portable to
-- DuckLake, and deduplication is an anti-join on the natural key (warehouse/load.py).

CREATE TABLE runs (
    run_id          VARCHAR NOT NULL,
    command         VARCHAR NOT NULL,
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ NOT NULL,
    status          VARCHAR NOT NULL,
    as_of           DATE,
    files_seen      INTEGER NOT NULL,
    files_loaded    INTEGER NOT NULL,
    files_duplicate INTEGER NOT NULL,
    files_failed    INTEGER NOT NULL,
    rows_loaded     BIGINT NOT NULL,
    rows_revised    BIGINT NOT NULL,
    rows_rejected   BIGINT NOT NULL,
    flags_emitted   INTEGER,
    config_sha256   VARCHAR NOT NULL,
    changed         BOOLEAN NOT NULL
);
COMMENT ON TABLE runs IS 'One row per finished run of repflow run or repflow ingest, written when it ends.';
COMMENT ON COLUMN runs.run_id IS 'Run identifier: UTC start time plus a random suffix, sortable.';
COMMENT ON COLUMN runs.command IS 'What ran: run (the nightly flow) or ingest (files loaded by hand).';
COMMENT ON COLUMN runs.started_at IS 'When the run started.';
COMMENT ON COLUMN runs.finished_at IS 'When the run finished.';
COMMENT ON COLUMN runs.status IS 'succeeded, completed_with_failures (some file failed as a whole) or failed.';
COMMENT ON COLUMN runs.as_of IS 'The as-of date the progression rules were evaluated for; null when they did not run.';
COMMENT ON COLUMN runs.files_seen IS 'Files discovered in the inbox (or named on the command line).';
COMMENT ON COLUMN runs.files_loaded IS 'Files whose rows were loaded in this run.';
COMMENT ON COLUMN runs.files_duplicate IS 'Files whose content (per athlete) was loaded before: nothing new.';
COMMENT ON COLUMN runs.files_failed IS 'Files that could not be read at all.';
COMMENT ON COLUMN runs.rows_loaded IS 'New sets stored.';
COMMENT ON COLUMN runs.rows_revised IS 'Stored sets whose values a newer export changed (old values in set_revisions).';
COMMENT ON COLUMN runs.rows_rejected IS 'Rows that failed validation (details in rejects).';
COMMENT ON COLUMN runs.flags_emitted IS 'Flags written by this run; null when the rules did not run.';
COMMENT ON COLUMN runs.changed IS 'Whether the run changed the warehouse (files recorded or flags written): the snapshot follows the last such run.';
COMMENT ON COLUMN runs.config_sha256 IS 'Fingerprint of the config the run used: the rules re-run when it changes.';

CREATE TABLE ingested_files (
    file_id        VARCHAR NOT NULL,
    path           VARCHAR NOT NULL,
    sha256         VARCHAR NOT NULL,
    bytes          BIGINT NOT NULL,
    format         VARCHAR,
    athlete_id     VARCHAR,
    status         VARCHAR NOT NULL,
    error          VARCHAR,
    rows_loaded    BIGINT NOT NULL,
    rows_revised   BIGINT NOT NULL,
    rows_unchanged BIGINT NOT NULL,
    rows_rejected  BIGINT NOT NULL,
    rows_skipped   BIGINT NOT NULL,
    run_id         VARCHAR NOT NULL,
    ingested_at    TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE ingested_files IS 'One row per file path and content: what became of every file repflow read.';
COMMENT ON COLUMN ingested_files.file_id IS 'Derived from (athlete_id, sha256): the same on every machine.';
COMMENT ON COLUMN ingested_files.path IS 'Path of the file, relative to the inbox when it came from the inbox.';
COMMENT ON COLUMN ingested_files.sha256 IS 'SHA-256 of the file bytes: a renamed copy is not new.';
COMMENT ON COLUMN ingested_files.bytes IS 'File size in bytes.';
COMMENT ON COLUMN ingested_files.format IS 'Detected format (canonical_csv, strong_csv, ...); null when unrecognised.';
COMMENT ON COLUMN ingested_files.athlete_id IS 'The inbox folder athlete; null for a file that names its athletes from the inbox root.';
COMMENT ON COLUMN ingested_files.status IS 'loaded, duplicate (the same content was loaded from another path) or failed.';
COMMENT ON COLUMN ingested_files.error IS 'Why the file failed, for a person; null otherwise.';
COMMENT ON COLUMN ingested_files.rows_loaded IS 'New sets stored from this file.';
COMMENT ON COLUMN ingested_files.rows_revised IS 'Stored sets this file changed (an edited workout).';
COMMENT ON COLUMN ingested_files.rows_unchanged IS 'Rows already stored with the same values (an overlapping export).';
COMMENT ON COLUMN ingested_files.rows_rejected IS 'Rows that failed validation (see rejects).';
COMMENT ON COLUMN ingested_files.rows_skipped IS 'Pseudo-rows that are not sets, such as rest timers and notes.';
COMMENT ON COLUMN ingested_files.run_id IS 'The run that processed the file.';
COMMENT ON COLUMN ingested_files.ingested_at IS 'When the file was processed.';

CREATE TABLE sets (
    athlete_id    VARCHAR NOT NULL,
    session_id    VARCHAR NOT NULL,
    performed_at  TIMESTAMPTZ NOT NULL,
    exercise_raw  VARCHAR NOT NULL,
    exercise_key  VARCHAR NOT NULL,
    exercise_id   VARCHAR NOT NULL,
    set_index     INTEGER NOT NULL,
    set_type      VARCHAR NOT NULL,
    reps          INTEGER,
    load_kg       DOUBLE NOT NULL,
    load_unit     VARCHAR NOT NULL,
    rpe           DOUBLE,
    duration_s    DOUBLE,
    distance_m    DOUBLE,
    device_id     VARCHAR,
    source_format VARCHAR NOT NULL,
    file_id       VARCHAR NOT NULL,
    source_line   BIGINT NOT NULL,
    run_id        VARCHAR NOT NULL
);
COMMENT ON TABLE sets IS 'Every valid set, once. Natural key: (source_format, athlete_id, performed_at, exercise_key, set_index).';
COMMENT ON COLUMN sets.athlete_id IS 'The athlete: from the file when it names one, else the inbox folder name.';
COMMENT ON COLUMN sets.session_id IS 'The source''s workout id, or one derived from athlete, workout start (or local day) and format.';
COMMENT ON COLUMN sets.performed_at IS 'When the set (or its workout) started, in UTC, to the second.';
COMMENT ON COLUMN sets.exercise_raw IS 'The exercise name exactly as in the source.';
COMMENT ON COLUMN sets.exercise_key IS 'exercise_raw lower-cased with white space collapsed: part of the natural key.';
COMMENT ON COLUMN sets.exercise_id IS 'Canonical exercise from config/exercises.toml, or a slug of the name when unmapped.';
COMMENT ON COLUMN sets.set_index IS 'Order of the set within the exercise in the session, from 1.';
COMMENT ON COLUMN sets.set_type IS 'working, warmup, drop or failure.';
COMMENT ON COLUMN sets.reps IS 'Repetitions; null only for a timed or distance set.';
COMMENT ON COLUMN sets.load_kg IS 'External load in kg (0 = bodyweight only); lb converted at 0.45359237.';
COMMENT ON COLUMN sets.load_unit IS 'The unit the athlete logged in: kg or lb. Advice is given back in it.';
COMMENT ON COLUMN sets.rpe IS 'Rate of perceived exertion 1-10 (RIR converted as 10 - RIR); null when not logged.';
COMMENT ON COLUMN sets.duration_s IS 'Duration of a timed set in seconds.';
COMMENT ON COLUMN sets.distance_m IS 'Distance of a distance set in metres.';
COMMENT ON COLUMN sets.device_id IS 'Serial of the machine or watch that recorded the set.';
COMMENT ON COLUMN sets.source_format IS 'The format of the file the set came from.';
COMMENT ON COLUMN sets.file_id IS 'The file that last wrote this set (see ingested_files).';
COMMENT ON COLUMN sets.source_line IS 'Line (or FIT message number) of the set in that file.';
COMMENT ON COLUMN sets.run_id IS 'The run that last wrote this set.';

CREATE TABLE set_revisions (
    source_format      VARCHAR NOT NULL,
    athlete_id         VARCHAR NOT NULL,
    performed_at       TIMESTAMPTZ NOT NULL,
    exercise_key       VARCHAR NOT NULL,
    set_index          INTEGER NOT NULL,
    set_type           VARCHAR NOT NULL,
    reps               INTEGER,
    load_kg            DOUBLE NOT NULL,
    load_unit          VARCHAR NOT NULL,
    rpe                DOUBLE,
    duration_s         DOUBLE,
    distance_m         DOUBLE,
    file_id            VARCHAR NOT NULL,
    source_line        BIGINT NOT NULL,
    revised_by_file_id VARCHAR NOT NULL,
    run_id             VARCHAR NOT NULL,
    revised_at         TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE set_revisions IS 'Old values of sets that a later export changed: the history of edits.';
COMMENT ON COLUMN set_revisions.source_format IS 'Natural key: format.';
COMMENT ON COLUMN set_revisions.athlete_id IS 'Natural key: athlete.';
COMMENT ON COLUMN set_revisions.performed_at IS 'Natural key: when, in UTC, to the second.';
COMMENT ON COLUMN set_revisions.exercise_key IS 'Natural key: normalised exercise name.';
COMMENT ON COLUMN set_revisions.set_index IS 'Natural key: set number.';
COMMENT ON COLUMN set_revisions.set_type IS 'The old set type.';
COMMENT ON COLUMN set_revisions.reps IS 'The old reps.';
COMMENT ON COLUMN set_revisions.load_kg IS 'The old load in kg.';
COMMENT ON COLUMN set_revisions.load_unit IS 'The old unit.';
COMMENT ON COLUMN set_revisions.rpe IS 'The old RPE.';
COMMENT ON COLUMN set_revisions.duration_s IS 'The old duration.';
COMMENT ON COLUMN set_revisions.distance_m IS 'The old distance.';
COMMENT ON COLUMN set_revisions.file_id IS 'The file the old values came from.';
COMMENT ON COLUMN set_revisions.source_line IS 'Their line in that file.';
COMMENT ON COLUMN set_revisions.revised_by_file_id IS 'The file whose values replaced them.';
COMMENT ON COLUMN set_revisions.run_id IS 'The run that replaced them.';
COMMENT ON COLUMN set_revisions.revised_at IS 'When they were replaced.';

CREATE TABLE rejects (
    file_id     VARCHAR NOT NULL,
    source_line BIGINT NOT NULL,
    raw         VARCHAR,
    errors      JSON NOT NULL,
    run_id      VARCHAR NOT NULL
);
COMMENT ON TABLE rejects IS 'Rows that failed validation, never dropped: fix the source and re-export.';
COMMENT ON COLUMN rejects.file_id IS 'The file the row came from (see ingested_files).';
COMMENT ON COLUMN rejects.source_line IS 'The line the row starts on in that file.';
COMMENT ON COLUMN rejects.raw IS 'The raw text of the row.';
COMMENT ON COLUMN rejects.errors IS 'JSON list of every error: {field, value, rule, message}.';
COMMENT ON COLUMN rejects.run_id IS 'The run that rejected it.';

CREATE TABLE exercises (
    exercise_id VARCHAR NOT NULL,
    name        VARCHAR NOT NULL,
    program_id  VARCHAR NOT NULL,
    aliases     VARCHAR[] NOT NULL
);
COMMENT ON TABLE exercises IS 'The exercise catalog from config/exercises.toml and programs.toml, refreshed every run.';
COMMENT ON COLUMN exercises.exercise_id IS 'Canonical exercise id (a slug).';
COMMENT ON COLUMN exercises.name IS 'Display name.';
COMMENT ON COLUMN exercises.program_id IS 'The progression program the exercise follows.';
COMMENT ON COLUMN exercises.aliases IS 'Matching keys (lower-cased, white space collapsed) of every name that maps here.';

CREATE TABLE machines (
    device_id          VARCHAR NOT NULL,
    model              VARCHAR,
    exercise_raw       VARCHAR,
    stack_increment_kg DOUBLE,
    file_id            VARCHAR NOT NULL
);
COMMENT ON TABLE machines IS 'Connected gym machines seen in machine exports, with their weight-stack increment.';
COMMENT ON COLUMN machines.device_id IS 'Machine serial, as in sets.device_id.';
COMMENT ON COLUMN machines.model IS 'Machine model name.';
COMMENT ON COLUMN machines.exercise_raw IS 'The exercise the machine reports.';
COMMENT ON COLUMN machines.stack_increment_kg IS 'Weight-stack step in kg; the load step for this machine''s exercise.';
COMMENT ON COLUMN machines.file_id IS 'The export that last described the machine.';

CREATE TABLE flags (
    run_id          VARCHAR NOT NULL,
    as_of           DATE NOT NULL,
    evaluated_at    TIMESTAMPTZ NOT NULL,
    athlete_id      VARCHAR NOT NULL,
    exercise_id     VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,
    action          VARCHAR NOT NULL,
    current_sets    INTEGER,
    current_reps    INTEGER,
    current_load_kg DOUBLE,
    next_sets       INTEGER,
    next_reps       INTEGER,
    next_load_kg    DOUBLE,
    load_unit       VARCHAR,
    reason          VARCHAR NOT NULL,
    evidence        DATE[] NOT NULL,
    program_id      VARCHAR NOT NULL
);
COMMENT ON TABLE flags IS 'Progression and advice flags, kept per run so their history can be queried.';
COMMENT ON COLUMN flags.run_id IS 'The run that evaluated the rules.';
COMMENT ON COLUMN flags.as_of IS 'Sessions on or before this date (athlete''s timezone) counted.';
COMMENT ON COLUMN flags.evaluated_at IS 'When the rules were evaluated.';
COMMENT ON COLUMN flags.athlete_id IS 'The athlete.';
COMMENT ON COLUMN flags.exercise_id IS 'The exercise.';
COMMENT ON COLUMN flags.kind IS 'progression (one per athlete and exercise) or advice.';
COMMENT ON COLUMN flags.action IS 'raise_sets, raise_reps, raise_load or hold; advice: train_more_often or do_first.';
COMMENT ON COLUMN flags.current_sets IS 'Top sets in the last session (S).';
COMMENT ON COLUMN flags.current_reps IS 'Fewest reps in any top set of the last session (R).';
COMMENT ON COLUMN flags.current_load_kg IS 'Top load of the last session in kg (L).';
COMMENT ON COLUMN flags.next_sets IS 'Prescribed sets for the next session.';
COMMENT ON COLUMN flags.next_reps IS 'Prescribed reps per set for the next session.';
COMMENT ON COLUMN flags.next_load_kg IS 'Prescribed load in kg for the next session (unrounded when stepped in lb).';
COMMENT ON COLUMN flags.load_unit IS 'The athlete''s unit, used by reason and the CLI.';
COMMENT ON COLUMN flags.reason IS 'One sentence a lifter understands, in their unit.';
COMMENT ON COLUMN flags.evidence IS 'Local dates of the sessions the flag rests on.';
COMMENT ON COLUMN flags.program_id IS 'The program whose rules produced the flag.';
