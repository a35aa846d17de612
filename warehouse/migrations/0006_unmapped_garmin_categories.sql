-- v_unmapped_exercises as the loader maps names: a Garmin name ("Category: Subtype") whose
-- category is an alias is mapped (warehouse/load.py), so it is no candidate for the catalog.
-- Replacing a view drops its comments, so they are set again below.

CREATE OR REPLACE VIEW v_unmapped_exercises AS
WITH mapped AS (SELECT DISTINCT unnest(aliases) AS exercise_key FROM exercises)
SELECT
    s.exercise_key,
    any_value(s.exercise_raw) AS example_name,
    any_value(s.exercise_id) AS exercise_id,
    count(DISTINCT s.athlete_id) AS athletes,
    count(*) AS sets,
    min(s.performed_at) AS first_seen,
    max(s.performed_at) AS last_seen
FROM sets s
WHERE s.exercise_key NOT IN (SELECT exercise_key FROM mapped)
  AND NOT (
      s.source_format = 'garmin_fit'
      AND split_part(s.exercise_key, ':', 1) IN (SELECT exercise_key FROM mapped)
  )
GROUP BY s.exercise_key;
COMMENT ON VIEW v_unmapped_exercises IS 'Exercise names no alias in config/exercises.toml matches (for Garmin, neither the whole name nor its category): candidates for the catalog.';
COMMENT ON COLUMN v_unmapped_exercises.exercise_key IS 'The normalised name.';
COMMENT ON COLUMN v_unmapped_exercises.example_name IS 'One raw spelling of it.';
COMMENT ON COLUMN v_unmapped_exercises.exercise_id IS 'The slug it is stored under meanwhile.';
COMMENT ON COLUMN v_unmapped_exercises.athletes IS 'Athletes who logged it.';
COMMENT ON COLUMN v_unmapped_exercises.sets IS 'Sets logged under it.';
COMMENT ON COLUMN v_unmapped_exercises.first_seen IS 'First set, UTC.';
COMMENT ON COLUMN v_unmapped_exercises.last_seen IS 'Last set, UTC.';
