-- The catalog is real (issue 25): the Free Exercise DB's exercises with their equipment and
-- muscles, the ids the project always had tied to their entries, and the apps' names for them
-- (config/catalog). A name with no alias is matched on its signature, the equipment apart from
-- the movement (schemas/exercise_match.py). Every run writes the table before anything loads.

ALTER TABLE exercises ADD COLUMN free_exercise_db_id VARCHAR;
ALTER TABLE exercises ADD COLUMN equipment VARCHAR;
ALTER TABLE exercises ADD COLUMN mechanic VARCHAR;
ALTER TABLE exercises ADD COLUMN category VARCHAR;
ALTER TABLE exercises ADD COLUMN primary_muscles VARCHAR[];
ALTER TABLE exercises ADD COLUMN secondary_muscles VARCHAR[];
ALTER TABLE exercises ADD COLUMN match_keys VARCHAR[];
-- Issue 22 adds this column in its migration 0012; the catalog fills it from its data.
ALTER TABLE exercises ADD COLUMN IF NOT EXISTS assisted BOOLEAN;
COMMENT ON TABLE exercises IS 'The exercise catalog: the Free Exercise DB, the catalog''s own entries and the apps'' names for them (config/catalog), and the config folder''s exercises.toml on top; with programs.toml''s assignments. Refreshed every run.';
COMMENT ON COLUMN exercises.name IS 'The exercise''s name for a person (reports show it instead of the id).';
COMMENT ON COLUMN exercises.free_exercise_db_id IS 'The Free Exercise DB entry (its id) the exercise is, which its equipment, mechanic, category and muscles come from; null for an exercise the database lacks (back_extension_machine), which has its own.';
COMMENT ON COLUMN exercises.equipment IS 'barbell, dumbbell, cable, machine, body only, kettlebells, bands, e-z curl bar, medicine ball, exercise ball, foam roll or other; null when unknown.';
COMMENT ON COLUMN exercises.mechanic IS 'compound or isolation; null when unknown.';
COMMENT ON COLUMN exercises.category IS 'strength, stretching, plyometrics, powerlifting, olympic weightlifting, strongman or cardio.';
COMMENT ON COLUMN exercises.primary_muscles IS 'The muscles the exercise trains most (abdominals, abductors, adductors, biceps, calves, chest, forearms, glutes, hamstrings, lats, lower back, middle back, neck, quadriceps, shoulders, traps, triceps).';
COMMENT ON COLUMN exercises.secondary_muscles IS 'The muscles it trains as well (v_weekly_sets_by_muscle counts a set as half for each).';
COMMENT ON COLUMN exercises.match_keys IS 'Signatures of its names (equipment|movement, schemas/exercise_match.py): a name no alias matches maps here when its signature is one of these and no other exercise''s.';
COMMENT ON COLUMN exercises.assisted IS 'The logged load is help (an assisted pull-up or dip, a counterweight machine, a band): less of it is progress, and the rules mirror every load decision.';

-- A name is mapped when the catalog has its exercise: by an alias, a Garmin category or
-- subtype, or the matcher (warehouse/catalog.py). Replacing a view drops its comments, so they
-- are set again below.
CREATE OR REPLACE VIEW v_unmapped_by_athlete AS
SELECT
    s.athlete_id,
    s.exercise_key,
    any_value(s.exercise_raw) AS example_name,
    any_value(s.exercise_id) AS exercise_id,
    count(*) AS sets,
    min(s.performed_at) AS first_seen,
    max(s.performed_at) AS last_seen
FROM sets s
WHERE s.exercise_id NOT IN (SELECT exercise_id FROM exercises)
GROUP BY s.athlete_id, s.exercise_key;
COMMENT ON VIEW v_unmapped_by_athlete IS 'v_unmapped_exercises per athlete: the names the catalog does not map that each athlete logged.';
COMMENT ON COLUMN v_unmapped_by_athlete.athlete_id IS 'The athlete.';
COMMENT ON COLUMN v_unmapped_by_athlete.exercise_key IS 'The normalised name.';
COMMENT ON COLUMN v_unmapped_by_athlete.example_name IS 'One raw spelling of it, as this athlete logged it.';
COMMENT ON COLUMN v_unmapped_by_athlete.exercise_id IS 'The slug it is stored under meanwhile.';
COMMENT ON COLUMN v_unmapped_by_athlete.sets IS 'Sets the athlete logged under it.';
COMMENT ON COLUMN v_unmapped_by_athlete.first_seen IS 'The athlete''s first set under it, UTC.';
COMMENT ON COLUMN v_unmapped_by_athlete.last_seen IS 'The athlete''s last set under it, UTC.';

COMMENT ON VIEW v_unmapped_exercises IS 'Exercise names the catalog does not map (no alias, and no signature of one exercise alone; for Garmin, neither the subtype nor the category): candidates for exercises.toml.';
