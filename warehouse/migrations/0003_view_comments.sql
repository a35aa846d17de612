-- Column comments for the view of the latest flags (the same columns as flags).
COMMENT ON COLUMN v_current_flags.run_id IS 'The run that evaluated the rules.';
COMMENT ON COLUMN v_current_flags.as_of IS 'Sessions on or before this date (athlete''s timezone) counted.';
COMMENT ON COLUMN v_current_flags.evaluated_at IS 'When the rules were evaluated.';
COMMENT ON COLUMN v_current_flags.athlete_id IS 'The athlete.';
COMMENT ON COLUMN v_current_flags.exercise_id IS 'The exercise.';
COMMENT ON COLUMN v_current_flags.kind IS 'progression (one per athlete and exercise) or advice.';
COMMENT ON COLUMN v_current_flags.action IS 'raise_sets, raise_reps, raise_load or hold; advice: train_more_often or do_first.';
COMMENT ON COLUMN v_current_flags.current_sets IS 'Top sets in the last session (S).';
COMMENT ON COLUMN v_current_flags.current_reps IS 'Fewest reps in any top set of the last session (R).';
COMMENT ON COLUMN v_current_flags.current_load_kg IS 'Top load of the last session in kg (L).';
COMMENT ON COLUMN v_current_flags.next_sets IS 'Prescribed sets for the next session.';
COMMENT ON COLUMN v_current_flags.next_reps IS 'Prescribed reps per set for the next session.';
COMMENT ON COLUMN v_current_flags.next_load_kg IS 'Prescribed load in kg for the next session (unrounded when stepped in lb).';
COMMENT ON COLUMN v_current_flags.load_unit IS 'The athlete''s unit, used by reason and the CLI.';
COMMENT ON COLUMN v_current_flags.reason IS 'One sentence a lifter understands, in their unit.';
COMMENT ON COLUMN v_current_flags.evidence IS 'Local dates of the sessions the flag rests on.';
COMMENT ON COLUMN v_current_flags.program_id IS 'The program whose rules produced the flag.';
