-- Analyst views. Session dates are local dates in each athlete's timezone (table athletes).

CREATE TABLE athletes (
    athlete_id VARCHAR NOT NULL,
    timezone   VARCHAR NOT NULL,
    unit       VARCHAR NOT NULL
);
COMMENT ON TABLE athletes IS 'Every athlete with sets, with the timezone and default unit from config, refreshed every run.';
COMMENT ON COLUMN athletes.athlete_id IS 'The athlete.';
COMMENT ON COLUMN athletes.timezone IS 'IANA timezone naive times and session dates are read in.';
COMMENT ON COLUMN athletes.unit IS 'Default unit for loads whose source names none.';

CREATE VIEW v_sessions AS
WITH working AS (
    SELECT s.*, (s.set_type IN ('working', 'failure') AND s.reps IS NOT NULL) AS is_working
    FROM sets s
)
SELECT
    w.athlete_id,
    w.exercise_id,
    w.session_id,
    min(w.performed_at) AS started_at,
    CAST(timezone(coalesce(any_value(a.timezone), 'UTC'), min(w.performed_at)) AS DATE) AS session_date,
    count(*) FILTER (WHERE w.is_working) AS working_sets,
    list(w.reps ORDER BY w.set_index) FILTER (WHERE w.is_working) AS reps_per_set,
    max(w.load_kg) FILTER (WHERE w.is_working) AS top_load_kg,
    sum(w.reps * w.load_kg) FILTER (WHERE w.is_working) AS volume_kg,
    max(w.load_kg * (1 + w.reps / 30.0)) FILTER (WHERE w.is_working AND w.reps >= 1) AS e1rm_kg,
    mode(w.load_unit) AS load_unit
FROM working w
LEFT JOIN athletes a USING (athlete_id)
GROUP BY w.athlete_id, w.exercise_id, w.session_id;
COMMENT ON VIEW v_sessions IS 'One row per athlete, exercise and session: working sets, reps per set, top load, volume and estimated 1RM.';
COMMENT ON COLUMN v_sessions.athlete_id IS 'The athlete.';
COMMENT ON COLUMN v_sessions.exercise_id IS 'The exercise.';
COMMENT ON COLUMN v_sessions.session_id IS 'The session (workout).';
COMMENT ON COLUMN v_sessions.started_at IS 'First set of the exercise in the session, UTC.';
COMMENT ON COLUMN v_sessions.session_date IS 'Local date of the session in the athlete''s timezone.';
COMMENT ON COLUMN v_sessions.working_sets IS 'Working and failure sets with reps (warm-ups, drop and timed sets excluded).';
COMMENT ON COLUMN v_sessions.reps_per_set IS 'Reps of each working set, in set order.';
COMMENT ON COLUMN v_sessions.top_load_kg IS 'Heaviest working load in kg.';
COMMENT ON COLUMN v_sessions.volume_kg IS 'Sum of reps x load over working sets, in kg.';
COMMENT ON COLUMN v_sessions.e1rm_kg IS 'Best estimated one-rep max over working sets (Epley: load x (1 + reps / 30)).';
COMMENT ON COLUMN v_sessions.load_unit IS 'The unit the athlete logged the exercise in.';

CREATE VIEW v_current_flags AS
SELECT * FROM flags
WHERE run_id = (SELECT arg_max(run_id, evaluated_at) FROM flags);
COMMENT ON VIEW v_current_flags IS 'The flags of the latest run that evaluated the rules.';

CREATE VIEW v_weekly_volume AS
SELECT
    athlete_id,
    exercise_id,
    CAST(date_trunc('week', session_date) AS DATE) AS week_start,
    count(*) AS sessions,
    sum(working_sets) AS working_sets,
    sum(list_sum(reps_per_set)) AS reps,
    sum(volume_kg) AS volume_kg
FROM v_sessions
GROUP BY ALL;
COMMENT ON VIEW v_weekly_volume IS 'Sessions, working sets, reps and volume per athlete, exercise and ISO week (Monday start).';
COMMENT ON COLUMN v_weekly_volume.athlete_id IS 'The athlete.';
COMMENT ON COLUMN v_weekly_volume.exercise_id IS 'The exercise.';
COMMENT ON COLUMN v_weekly_volume.week_start IS 'Monday of the week, local date.';
COMMENT ON COLUMN v_weekly_volume.sessions IS 'Sessions with the exercise that week.';
COMMENT ON COLUMN v_weekly_volume.working_sets IS 'Working sets that week.';
COMMENT ON COLUMN v_weekly_volume.reps IS 'Reps over working sets that week.';
COMMENT ON COLUMN v_weekly_volume.volume_kg IS 'Sum of reps x load in kg that week.';

CREATE VIEW v_data_quality AS
WITH files AS (
    SELECT file_id, arg_max(path, ingested_at) AS path, arg_max(format, ingested_at) AS format
    FROM ingested_files WHERE status = 'loaded' GROUP BY file_id
),
errors AS (
    SELECT r.file_id, unnest(from_json(r.errors, '[{"field": "VARCHAR", "rule": "VARCHAR"}]')) AS e
    FROM rejects r
)
SELECT f.path, f.format, e.e.field AS field, e.e.rule AS rule, count(*) AS errors
FROM errors e JOIN files f USING (file_id)
GROUP BY ALL;
COMMENT ON VIEW v_data_quality IS 'Validation errors by file, format, field and rule: where the bad data comes from.';
COMMENT ON COLUMN v_data_quality.path IS 'The file.';
COMMENT ON COLUMN v_data_quality.format IS 'Its detected format.';
COMMENT ON COLUMN v_data_quality.field IS 'The field that failed (empty for a row whose structure is broken).';
COMMENT ON COLUMN v_data_quality.rule IS 'The rule it failed.';
COMMENT ON COLUMN v_data_quality.errors IS 'How many rows failed it.';

CREATE VIEW v_unmapped_exercises AS
WITH mapped AS (SELECT DISTINCT unnest(aliases) AS exercise_key FROM exercises)
SELECT
    s.exercise_key,
    any_value(s.exercise_raw) AS example_name,
    any_value(s.exercise_id) AS exercise_id,
    count(DISTINCT s.athlete_id) AS athletes,
    count(*) AS sets,
    min(s.performed_at) AS first_seen,
    max(s.performed_at) AS last_seen
FROM sets s ANTI JOIN mapped m USING (exercise_key)
GROUP BY s.exercise_key;
COMMENT ON VIEW v_unmapped_exercises IS 'Exercise names no alias in config/exercises.toml matches: candidates for the catalog.';
COMMENT ON COLUMN v_unmapped_exercises.exercise_key IS 'The normalised name.';
COMMENT ON COLUMN v_unmapped_exercises.example_name IS 'One raw spelling of it.';
COMMENT ON COLUMN v_unmapped_exercises.exercise_id IS 'The slug it is stored under meanwhile.';
COMMENT ON COLUMN v_unmapped_exercises.athletes IS 'Athletes who logged it.';
COMMENT ON COLUMN v_unmapped_exercises.sets IS 'Sets logged under it.';
COMMENT ON COLUMN v_unmapped_exercises.first_seen IS 'First set, UTC.';
COMMENT ON COLUMN v_unmapped_exercises.last_seen IS 'Last set, UTC.';
