-- Unmapped names per athlete, so that one athlete's report counts their own sets under their own
-- spelling; v_unmapped_exercises adds it up, so what is unmapped is written down once.
-- Replacing a view drops its comments, so they are set again below.

CREATE VIEW v_unmapped_by_athlete AS
WITH mapped AS (SELECT DISTINCT unnest(aliases) AS exercise_key FROM exercises)
SELECT
    s.athlete_id,
    s.exercise_key,
    any_value(s.exercise_raw) AS example_name,
    any_value(s.exercise_id) AS exercise_id,
    count(*) AS sets,
    min(s.performed_at) AS first_seen,
    max(s.performed_at) AS last_seen
FROM sets s
WHERE s.exercise_key NOT IN (SELECT exercise_key FROM mapped)
  AND NOT (
      s.source_format = 'garmin_fit'
      AND split_part(s.exercise_key, ':', 1) IN (SELECT exercise_key FROM mapped)
  )
GROUP BY s.athlete_id, s.exercise_key;
COMMENT ON VIEW v_unmapped_by_athlete IS 'v_unmapped_exercises per athlete: the names no alias matches that each athlete logged.';
COMMENT ON COLUMN v_unmapped_by_athlete.athlete_id IS 'The athlete.';
COMMENT ON COLUMN v_unmapped_by_athlete.exercise_key IS 'The normalised name.';
COMMENT ON COLUMN v_unmapped_by_athlete.example_name IS 'One raw spelling of it, as this athlete logged it.';
COMMENT ON COLUMN v_unmapped_by_athlete.exercise_id IS 'The slug it is stored under meanwhile.';
COMMENT ON COLUMN v_unmapped_by_athlete.sets IS 'Sets the athlete logged under it.';
COMMENT ON COLUMN v_unmapped_by_athlete.first_seen IS 'The athlete''s first set under it, UTC.';
COMMENT ON COLUMN v_unmapped_by_athlete.last_seen IS 'The athlete''s last set under it, UTC.';

CREATE OR REPLACE VIEW v_unmapped_exercises AS
SELECT
    exercise_key,
    any_value(example_name) AS example_name,
    any_value(exercise_id) AS exercise_id,
    count(*) AS athletes,
    CAST(sum(sets) AS BIGINT) AS sets,
    min(first_seen) AS first_seen,
    max(last_seen) AS last_seen
FROM v_unmapped_by_athlete
GROUP BY exercise_key;
COMMENT ON VIEW v_unmapped_exercises IS 'Exercise names no alias in config/exercises.toml matches (for Garmin, neither the whole name nor its category): candidates for the catalog.';
COMMENT ON COLUMN v_unmapped_exercises.exercise_key IS 'The normalised name.';
COMMENT ON COLUMN v_unmapped_exercises.example_name IS 'One raw spelling of it.';
COMMENT ON COLUMN v_unmapped_exercises.exercise_id IS 'The slug it is stored under meanwhile.';
COMMENT ON COLUMN v_unmapped_exercises.athletes IS 'Athletes who logged it.';
COMMENT ON COLUMN v_unmapped_exercises.sets IS 'Sets logged under it.';
COMMENT ON COLUMN v_unmapped_exercises.first_seen IS 'First set, UTC.';
COMMENT ON COLUMN v_unmapped_exercises.last_seen IS 'Last set, UTC.';
