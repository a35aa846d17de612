-- Exports in the wild (issue 23). A file that names no unit (Strong's classic layouts) has its
-- unit decided: by the operator's file_unit, from its loads, as the athlete's earlier files of
-- the format, or from the unit setting. Dates written in numbers are read in a day/month order
-- decided per file. Both are kept per file, with where they came from, so that the next file of
-- the same athlete and format is read the same way, and a person can see why.

ALTER TABLE ingested_files ADD COLUMN unit VARCHAR;
ALTER TABLE ingested_files ADD COLUMN unit_source VARCHAR;
ALTER TABLE ingested_files ADD COLUMN unit_evidence VARCHAR;
ALTER TABLE ingested_files ADD COLUMN date_order VARCHAR;
ALTER TABLE ingested_files ADD COLUMN date_order_source VARCHAR;
COMMENT ON COLUMN ingested_files.unit IS 'The unit the file''s loads were read in (kg or lb); null when the file states different units per row, when it failed, or for a file read before units were recorded.';
COMMENT ON COLUMN ingested_files.unit_source IS 'Where the unit came from: file_unit (the athlete''s setting, an operator''s fix), file (the file states it), loads (clear evidence in its loads), earlier_files (as this athlete''s earlier files of the format were inferred), setting (the athlete''s unit setting, for want of evidence). Null for canonical CSV, machine JSON and FIT, which state theirs in their own way.';
COMMENT ON COLUMN ingested_files.unit_evidence IS 'What was decided and from what, for a person: "loads read as lb: 11% of loaded sets at 135/225/315/405, 2% on the 2.5 kg grid, 7 with conversion residue".';
COMMENT ON COLUMN ingested_files.date_order IS 'The order dates written in numbers (05/06/18) were read in: dmy or mdy. Null when the file writes no date that way, or when nothing said (its rows with such dates were then rejected, rule ambiguous_date).';
COMMENT ON COLUMN ingested_files.date_order_source IS 'Where the day/month order came from: file (a day above 12 in its own dates), earlier_files (as this athlete''s earlier files of the format), setting (the athlete''s date_order), undecided (nothing said). Null when the file writes no date in numbers.';

-- Muscle groups the files give their exercises (GymBook's primary and secondary groups and its
-- region, FitNotes' Category, Liftosaur's target and synergist muscles), for the exercise
-- catalog to match. Kept per athlete, format and exercise name, in the file's own words.
CREATE TABLE exercise_muscle_groups (
    athlete_id    VARCHAR NOT NULL,
    source_format VARCHAR NOT NULL,
    exercise_key  VARCHAR NOT NULL,
    exercise_raw  VARCHAR NOT NULL,
    role          VARCHAR NOT NULL,
    muscle_group  VARCHAR NOT NULL,
    file_id       VARCHAR NOT NULL,
    run_id        VARCHAR NOT NULL
);
COMMENT ON TABLE exercise_muscle_groups IS 'Muscle groups the exported files give each exercise, as they write them (in the app''s language): one row per athlete, format, exercise and group. The latest file to name an exercise''s groups replaces them. Join sets on (athlete_id, source_format, exercise_key).';
COMMENT ON COLUMN exercise_muscle_groups.athlete_id IS 'The athlete whose file named them.';
COMMENT ON COLUMN exercise_muscle_groups.source_format IS 'The file''s format (gymbook_csv, fitnotes_csv, liftosaur_csv).';
COMMENT ON COLUMN exercise_muscle_groups.exercise_key IS 'The exercise''s normalised name, as in sets.exercise_key.';
COMMENT ON COLUMN exercise_muscle_groups.exercise_raw IS 'The exercise''s name as the file writes it.';
COMMENT ON COLUMN exercise_muscle_groups.role IS 'primary (GymBook''s primary groups, Liftosaur''s target muscles), secondary (GymBook''s secondary groups, Liftosaur''s synergists) or category (a body-part category, coarser than a muscle: FitNotes'' Category, GymBook''s region).';
COMMENT ON COLUMN exercise_muscle_groups.muscle_group IS 'The group as the file writes it (Pettorali, Chest, quadriceps); one row per group when a cell lists several.';
COMMENT ON COLUMN exercise_muscle_groups.file_id IS 'The file that named them last.';
COMMENT ON COLUMN exercise_muscle_groups.run_id IS 'The run that stored them.';
