-- v_exercise_progress: v_sessions over time, with the progression flag each session produced.
--
-- A flag rests on the sessions in its evidence (local dates); the newest of them is the session
-- the rules judged. So the flag a session produced is the progression flag whose newest evidence
-- date is that session's date, and of those (one per run that saw the session last) the latest
-- evaluated wins: a changed config or an edited export re-judges the same session. On a day
-- with two sessions of an exercise the flag goes to the later one, as the rules take it as last.
-- Advice flags (train_more_often, do_first) are not tied to one session and stay in flags.

CREATE VIEW v_exercise_progress AS
WITH produced AS (
    SELECT athlete_id, exercise_id, list_max(evidence) AS session_date, action, next_sets,
           next_reps, next_load_kg, reason, evidence, as_of, run_id
    FROM flags
    WHERE kind = 'progression'
    QUALIFY row_number() OVER (
        PARTITION BY athlete_id, exercise_id, list_max(evidence)
        ORDER BY evaluated_at DESC, run_id DESC
    ) = 1
),
ordered AS (
    SELECT s.*,
           row_number() OVER pair AS session_number,
           max(s.e1rm_kg) OVER (pair ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
               AS earlier_best_e1rm_kg,
           -- the session the rules judge on its date: the last one with working sets
           s.working_sets > 0 AND row_number() OVER (
               PARTITION BY s.athlete_id, s.exercise_id, s.session_date
               ORDER BY s.working_sets > 0 DESC, s.started_at DESC, s.session_id DESC
           ) = 1 AS judged
    FROM v_sessions s
    WINDOW pair AS (
        PARTITION BY s.athlete_id, s.exercise_id ORDER BY s.started_at, s.session_id
    )
)
SELECT
    o.athlete_id,
    o.exercise_id,
    o.session_id,
    o.session_date,
    o.started_at,
    o.session_number,
    o.working_sets,
    o.reps_per_set,
    o.top_load_kg,
    o.volume_kg,
    o.e1rm_kg,
    greatest(o.e1rm_kg, o.earlier_best_e1rm_kg) AS best_e1rm_kg,
    coalesce(o.e1rm_kg > o.earlier_best_e1rm_kg, false) AS e1rm_pr,
    o.load_unit,
    p.action AS flag_action,
    p.next_sets AS flag_next_sets,
    p.next_reps AS flag_next_reps,
    p.next_load_kg AS flag_next_load_kg,
    p.reason AS flag_reason,
    p.evidence AS flag_evidence,
    p.as_of AS flag_as_of,
    p.run_id AS flag_run_id
FROM ordered o
LEFT JOIN produced p
    ON o.judged
    AND p.athlete_id = o.athlete_id
    AND p.exercise_id = o.exercise_id
    AND p.session_date = o.session_date;
COMMENT ON VIEW v_exercise_progress IS 'v_sessions in time order per athlete and exercise, with the running best e1RM and the progression flag each session produced (the latest flag whose newest evidence date is the session''s date).';
COMMENT ON COLUMN v_exercise_progress.athlete_id IS 'The athlete.';
COMMENT ON COLUMN v_exercise_progress.exercise_id IS 'The exercise.';
COMMENT ON COLUMN v_exercise_progress.session_id IS 'The session (workout).';
COMMENT ON COLUMN v_exercise_progress.session_date IS 'Local date of the session in the athlete''s timezone.';
COMMENT ON COLUMN v_exercise_progress.started_at IS 'First set of the exercise in the session, UTC.';
COMMENT ON COLUMN v_exercise_progress.session_number IS '1 for the athlete''s first session of the exercise, 2 for the next, and so on.';
COMMENT ON COLUMN v_exercise_progress.working_sets IS 'Working and failure sets with reps (warm-ups, drop and timed sets excluded).';
COMMENT ON COLUMN v_exercise_progress.reps_per_set IS 'Reps of each working set, in set order.';
COMMENT ON COLUMN v_exercise_progress.top_load_kg IS 'Heaviest working load in kg.';
COMMENT ON COLUMN v_exercise_progress.volume_kg IS 'Sum of reps x load over working sets, in kg.';
COMMENT ON COLUMN v_exercise_progress.e1rm_kg IS 'Best estimated one-rep max of the session (Epley: load x (1 + reps / 30)).';
COMMENT ON COLUMN v_exercise_progress.best_e1rm_kg IS 'Best e1RM of the exercise so far, this session included.';
COMMENT ON COLUMN v_exercise_progress.e1rm_pr IS 'Whether the session''s e1RM beat every earlier session''s (false for the first).';
COMMENT ON COLUMN v_exercise_progress.load_unit IS 'The unit the athlete logged the exercise in.';
COMMENT ON COLUMN v_exercise_progress.flag_action IS 'The action of the flag the session produced (raise_sets, raise_reps, raise_load, hold); null when no run judged it as the last session.';
COMMENT ON COLUMN v_exercise_progress.flag_next_sets IS 'That flag''s prescribed sets for the next session.';
COMMENT ON COLUMN v_exercise_progress.flag_next_reps IS 'That flag''s prescribed reps per set.';
COMMENT ON COLUMN v_exercise_progress.flag_next_load_kg IS 'That flag''s prescribed load in kg.';
COMMENT ON COLUMN v_exercise_progress.flag_reason IS 'That flag''s reason, in the athlete''s unit.';
COMMENT ON COLUMN v_exercise_progress.flag_evidence IS 'Local dates of the sessions that flag rests on; the newest is this session''s.';
COMMENT ON COLUMN v_exercise_progress.flag_as_of IS 'The as-of date of the run that produced the flag.';
COMMENT ON COLUMN v_exercise_progress.flag_run_id IS 'The run that produced the flag.';
