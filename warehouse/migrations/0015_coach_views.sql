-- What coaches ask of the warehouse (issue 25): sets per muscle each week, what a run changed,
-- whether athletes train, and loads in the athlete's own unit. Session dates and weeks are
-- local, in each athlete's timezone (v_sessions); a week starts on Monday (ISO).

CREATE VIEW v_weekly_sets_by_muscle AS
WITH weekly AS (
    SELECT athlete_id, exercise_id, CAST(date_trunc('week', session_date) AS DATE) AS week_start,
           sum(working_sets) AS working_sets
    FROM v_sessions
    WHERE working_sets > 0
    GROUP BY ALL
),
muscles AS (
    SELECT exercise_id, unnest(primary_muscles) AS muscle, true AS is_primary FROM exercises
    UNION ALL
    SELECT exercise_id, unnest(secondary_muscles) AS muscle, false AS is_primary FROM exercises
)
SELECT
    w.athlete_id,
    w.week_start,
    strftime(w.week_start, '%G-W%V') AS iso_week,
    m.muscle,
    sum(CASE WHEN m.is_primary THEN w.working_sets ELSE w.working_sets / 2 END) AS sets,
    CAST(coalesce(sum(w.working_sets) FILTER (WHERE m.is_primary), 0) AS BIGINT) AS primary_sets,
    CAST(coalesce(sum(w.working_sets) FILTER (WHERE NOT m.is_primary), 0) AS BIGINT)
        AS secondary_sets,
    list(DISTINCT w.exercise_id ORDER BY w.exercise_id) AS exercises
FROM weekly w
JOIN muscles m USING (exercise_id)
GROUP BY w.athlete_id, w.week_start, m.muscle;
COMMENT ON VIEW v_weekly_sets_by_muscle IS 'Working sets per athlete, ISO week and muscle (exercises.primary_muscles; a secondary muscle counts a set as half): the weekly volume coaches steer by. Sets of exercises the catalog gives no muscles are in no row (v_unmapped_exercises lists their names).';
COMMENT ON COLUMN v_weekly_sets_by_muscle.athlete_id IS 'The athlete.';
COMMENT ON COLUMN v_weekly_sets_by_muscle.week_start IS 'Monday of the week, local date.';
COMMENT ON COLUMN v_weekly_sets_by_muscle.iso_week IS 'The ISO week, as 2026-W47.';
COMMENT ON COLUMN v_weekly_sets_by_muscle.muscle IS 'A muscle of the Free Exercise DB (chest, lats, quadriceps...).';
COMMENT ON COLUMN v_weekly_sets_by_muscle.sets IS 'primary_sets + secondary_sets / 2.';
COMMENT ON COLUMN v_weekly_sets_by_muscle.primary_sets IS 'Working sets (working and failure sets with reps) of exercises whose primary muscle it is.';
COMMENT ON COLUMN v_weekly_sets_by_muscle.secondary_sets IS 'Working sets of exercises that train it as a secondary muscle.';
COMMENT ON COLUMN v_weekly_sets_by_muscle.exercises IS 'The exercises those sets were of.';

CREATE VIEW v_adherence AS
WITH sessions AS (
    SELECT athlete_id, session_id, min(session_date) AS session_date,
           sum(working_sets) AS working_sets
    FROM v_sessions
    GROUP BY athlete_id, session_id
),
span AS (
    SELECT s.athlete_id, min(s.session_date) AS first_session_date,
           max(s.session_date) AS last_session_date,
           CAST(timezone(coalesce(any_value(a.timezone), 'UTC'), now()) AS DATE) AS today
    FROM sessions s
    LEFT JOIN athletes a USING (athlete_id)
    GROUP BY s.athlete_id
),
weeks AS (
    SELECT athlete_id, CAST(unnest(generate_series(
               date_trunc('week', first_session_date),
               date_trunc('week', greatest(today, last_session_date)),
               INTERVAL 7 DAY)) AS DATE) AS week_start
    FROM span
),
trained AS (
    SELECT athlete_id, CAST(date_trunc('week', session_date) AS DATE) AS week_start,
           count(*) AS sessions, sum(working_sets) AS working_sets
    FROM sessions
    GROUP BY ALL
)
SELECT
    w.athlete_id,
    w.week_start,
    strftime(w.week_start, '%G-W%V') AS iso_week,
    coalesce(t.sessions, 0) AS sessions,
    CAST(coalesce(t.working_sets, 0) AS BIGINT) AS working_sets,
    s.last_session_date,
    CAST(s.today - s.last_session_date AS INTEGER) AS days_since_last_session
FROM weeks w
JOIN span s USING (athlete_id)
LEFT JOIN trained t USING (athlete_id, week_start);
COMMENT ON VIEW v_adherence IS 'Sessions per athlete and ISO week, from the athlete''s first week to the current one, weeks without a session included as 0; with the days since the athlete''s last session (as of today, in their timezone).';
COMMENT ON COLUMN v_adherence.athlete_id IS 'The athlete.';
COMMENT ON COLUMN v_adherence.week_start IS 'Monday of the week, local date.';
COMMENT ON COLUMN v_adherence.iso_week IS 'The ISO week, as 2026-W47.';
COMMENT ON COLUMN v_adherence.sessions IS 'Sessions (workouts) that week; 0 when the athlete did not train.';
COMMENT ON COLUMN v_adherence.working_sets IS 'Working sets over those sessions.';
COMMENT ON COLUMN v_adherence.last_session_date IS 'Local date of the athlete''s last session (the same on each of their rows).';
COMMENT ON COLUMN v_adherence.days_since_last_session IS 'Days from that session to today in the athlete''s timezone: 21 and more is three weeks without training.';

-- What each run changed, per athlete. A set counts as new in the run that first stored it: its
-- own run, or, when a later export edited it or a fixed reader corrected it, the run that loaded
-- the file its first values came from.
CREATE VIEW v_changes_since AS
WITH replaced AS (
    SELECT source_format, athlete_id, performed_at, exercise_key, set_index,
           arg_min(file_id, replaced_at) AS file_id
    FROM (
        SELECT source_format, athlete_id, performed_at, exercise_key, set_index, file_id,
               revised_at AS replaced_at
        FROM set_revisions
        UNION ALL
        SELECT source_format, athlete_id, performed_at, exercise_key, set_index, file_id,
               corrected_at
        FROM set_corrections
    )
    GROUP BY ALL
),
file_runs AS (
    SELECT file_id, min(run_id) AS run_id FROM ingested_files WHERE status = 'loaded'
    GROUP BY file_id
),
stored AS (
    SELECT coalesce(f.run_id, s.run_id) AS run_id, s.athlete_id,
           count(*) AS sets_new, count(DISTINCT s.session_id) AS sessions_new
    FROM sets s
    LEFT JOIN replaced r USING (source_format, athlete_id, performed_at, exercise_key, set_index)
    LEFT JOIN file_runs f ON f.file_id = r.file_id
    GROUP BY ALL
),
revised AS (
    SELECT run_id, athlete_id, count(*) AS sets_revised FROM set_revisions GROUP BY ALL
),
corrected AS (
    SELECT run_id, athlete_id, count(*) AS sets_corrected FROM set_corrections GROUP BY ALL
),
evaluations AS (
    SELECT run_id, lag(run_id) OVER (ORDER BY evaluated_at, run_id) AS previous_run_id
    FROM (SELECT run_id, max(evaluated_at) AS evaluated_at FROM flags GROUP BY run_id)
),
keyed AS (
    -- one progression flag per athlete and exercise; advice by its action
    SELECT run_id, athlete_id, exercise_id, kind,
           CASE WHEN kind = 'advice' THEN action END AS advice,
           action, next_sets, next_reps, round(next_load_kg, 4) AS next_load_kg
    FROM flags
),
compared AS (
    SELECT n.run_id, n.athlete_id, n.exercise_id,
           p.run_id IS NULL AS is_new,
           p.run_id IS NOT NULL
               AND (n.action, n.next_sets, n.next_reps, n.next_load_kg)
                   IS DISTINCT FROM (p.action, p.next_sets, p.next_reps, p.next_load_kg)
               AS is_changed
    FROM keyed n
    JOIN evaluations e USING (run_id)
    LEFT JOIN keyed p
        ON p.run_id = e.previous_run_id AND p.athlete_id = n.athlete_id
        AND p.exercise_id = n.exercise_id AND p.kind = n.kind
        AND p.advice IS NOT DISTINCT FROM n.advice
),
flagged AS (
    SELECT run_id, athlete_id,
           count(*) FILTER (WHERE is_new) AS flags_new,
           count(*) FILTER (WHERE is_changed) AS flags_changed,
           list(DISTINCT exercise_id ORDER BY exercise_id) FILTER (WHERE is_new OR is_changed)
               AS flag_exercises
    FROM compared
    GROUP BY ALL
),
gone AS (
    SELECT e.run_id, p.athlete_id, count(*) AS flags_gone
    FROM evaluations e
    JOIN keyed p ON p.run_id = e.previous_run_id
    ANTI JOIN keyed n
        ON n.run_id = e.run_id AND n.athlete_id = p.athlete_id
        AND n.exercise_id = p.exercise_id AND n.kind = p.kind
        AND n.advice IS NOT DISTINCT FROM p.advice
    GROUP BY ALL
),
changes AS (
    SELECT run_id, athlete_id FROM stored
    UNION SELECT run_id, athlete_id FROM revised
    UNION SELECT run_id, athlete_id FROM corrected
    UNION SELECT run_id, athlete_id FROM flagged WHERE flags_new + flags_changed > 0
    UNION SELECT run_id, athlete_id FROM gone
)
SELECT
    c.run_id,
    coalesce(r.finished_at, (SELECT max(evaluated_at) FROM flags f WHERE f.run_id = c.run_id))
        AS finished_at,
    c.athlete_id,
    coalesce(s.sets_new, 0) AS sets_new,
    coalesce(s.sessions_new, 0) AS sessions_new,
    coalesce(v.sets_revised, 0) AS sets_revised,
    coalesce(k.sets_corrected, 0) AS sets_corrected,
    coalesce(f.flags_new, 0) AS flags_new,
    coalesce(f.flags_changed, 0) AS flags_changed,
    coalesce(g.flags_gone, 0) AS flags_gone,
    coalesce(f.flag_exercises, []) AS flag_exercises
FROM changes c
LEFT JOIN runs r USING (run_id)
LEFT JOIN stored s USING (run_id, athlete_id)
LEFT JOIN revised v USING (run_id, athlete_id)
LEFT JOIN corrected k USING (run_id, athlete_id)
LEFT JOIN flagged f USING (run_id, athlete_id)
LEFT JOIN gone g USING (run_id, athlete_id);
COMMENT ON VIEW v_changes_since IS 'What each run changed, per athlete: sets it stored first, edits (set_revisions), corrections (set_corrections), and flags that are new, changed or gone against the run that evaluated the rules before it. Filter on finished_at for what changed since a moment (last night).';
COMMENT ON COLUMN v_changes_since.run_id IS 'The run.';
COMMENT ON COLUMN v_changes_since.finished_at IS 'When it finished (for flags evaluated outside a recorded run, when they were evaluated).';
COMMENT ON COLUMN v_changes_since.athlete_id IS 'The athlete.';
COMMENT ON COLUMN v_changes_since.sets_new IS 'Sets the run stored for the first time.';
COMMENT ON COLUMN v_changes_since.sessions_new IS 'Sessions those sets belong to.';
COMMENT ON COLUMN v_changes_since.sets_revised IS 'Stored sets whose values the athlete edited in a newer export (set_revisions).';
COMMENT ON COLUMN v_changes_since.sets_corrected IS 'Stored sets a fixed reader changed or removed (set_corrections).';
COMMENT ON COLUMN v_changes_since.flags_new IS 'Flags with no counterpart in the previous evaluation: a first progression flag for an exercise, or advice not given before.';
COMMENT ON COLUMN v_changes_since.flags_changed IS 'Progression flags whose action or next prescription changed.';
COMMENT ON COLUMN v_changes_since.flags_gone IS 'Flags of the previous evaluation with no counterpart in this one (an exercise gone dormant, advice no longer given).';
COMMENT ON COLUMN v_changes_since.flag_exercises IS 'The exercises whose flags are new or changed.';

-- v_current_flags with the loads in the athlete's own unit beside the kg columns. Replacing a
-- view drops its comments, so they are set again below.
CREATE OR REPLACE VIEW v_current_flags AS
SELECT
    run_id, as_of, evaluated_at, athlete_id, exercise_id, kind, action,
    current_sets, current_reps, current_load_kg,
    round(CASE WHEN load_unit = 'lb' THEN current_load_kg / 0.45359237
               ELSE current_load_kg END, 2) AS current_load,
    next_sets, next_reps, next_load_kg,
    round(CASE WHEN load_unit = 'lb' THEN next_load_kg / 0.45359237
               ELSE next_load_kg END, 2) AS next_load,
    load_unit, reason, evidence, program_id
FROM flags
WHERE run_id = (SELECT arg_max(run_id, evaluated_at) FROM flags);
COMMENT ON VIEW v_current_flags IS 'The flags of the latest run that evaluated the rules, with the loads in the athlete''s unit too.';
COMMENT ON COLUMN v_current_flags.run_id IS 'The run that evaluated the rules.';
COMMENT ON COLUMN v_current_flags.as_of IS 'Sessions on or before this date (athlete''s timezone) counted.';
COMMENT ON COLUMN v_current_flags.evaluated_at IS 'When the rules were evaluated.';
COMMENT ON COLUMN v_current_flags.athlete_id IS 'The athlete.';
COMMENT ON COLUMN v_current_flags.exercise_id IS 'The exercise.';
COMMENT ON COLUMN v_current_flags.kind IS 'progression (one per athlete and exercise, except those not trained for the program''s dormant_days) or advice.';
COMMENT ON COLUMN v_current_flags.action IS 'raise_sets, raise_reps, raise_load, hold, deload (after a stall) or resume (after a break); advice: train_more_often, do_first or record (a new best estimated 1RM).';
COMMENT ON COLUMN v_current_flags.current_sets IS 'Top sets in the last session (S).';
COMMENT ON COLUMN v_current_flags.current_reps IS 'Fewest reps in any top set of the last session (R).';
COMMENT ON COLUMN v_current_flags.current_load_kg IS 'Top load of the last session in kg (L).';
COMMENT ON COLUMN v_current_flags.current_load IS 'current_load_kg in the athlete''s unit (load_unit), rounded to 0.01.';
COMMENT ON COLUMN v_current_flags.next_sets IS 'Prescribed sets for the next session.';
COMMENT ON COLUMN v_current_flags.next_reps IS 'Prescribed reps per set for the next session.';
COMMENT ON COLUMN v_current_flags.next_load_kg IS 'Prescribed load in kg for the next session (unrounded when stepped in lb).';
COMMENT ON COLUMN v_current_flags.next_load IS 'next_load_kg in the athlete''s unit (load_unit), rounded to 0.01: what to put on the bar.';
COMMENT ON COLUMN v_current_flags.load_unit IS 'The athlete''s unit, used by reason, current_load and next_load.';
COMMENT ON COLUMN v_current_flags.reason IS 'One sentence a lifter understands, in their unit.';
COMMENT ON COLUMN v_current_flags.evidence IS 'Local dates of the sessions the flag rests on.';
COMMENT ON COLUMN v_current_flags.program_id IS 'The program whose rules produced the flag.';
