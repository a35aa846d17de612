-- The rules step back as well as forward (issue 18): `deload` after a stall and `resume` after a
-- break are progression actions, `record` is advice, and an exercise not trained for
-- `dormant_days` gets no flag. Actions are text, so only the comments change.
COMMENT ON COLUMN flags.kind IS 'progression (one per athlete and exercise, except those not trained for the program''s dormant_days) or advice.';
COMMENT ON COLUMN flags.action IS 'raise_sets, raise_reps, raise_load, hold, deload (after a stall) or resume (after a break); advice: train_more_often, do_first or record (a new best estimated 1RM).';
COMMENT ON COLUMN v_current_flags.kind IS 'progression (one per athlete and exercise, except those not trained for the program''s dormant_days) or advice.';
COMMENT ON COLUMN v_current_flags.action IS 'raise_sets, raise_reps, raise_load, hold, deload (after a stall) or resume (after a break); advice: train_more_often, do_first or record (a new best estimated 1RM).';
COMMENT ON COLUMN v_exercise_progress.flag_action IS 'The action of the progression flag the session produced (raise_sets, raise_reps, raise_load, hold, deload, resume); null when no run judged it as the last session.';
