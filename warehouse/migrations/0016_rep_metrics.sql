-- What a connected machine records beyond the set: the reps it asked for, the rest it
-- programmed, and every rep's own numbers (Speediance session details, sources/speediance_json.py).

ALTER TABLE sets ADD COLUMN target_reps INTEGER;
ALTER TABLE sets ADD COLUMN rest_s DOUBLE;
COMMENT ON COLUMN sets.target_reps IS 'The reps the set asked for (a machine''s or an app''s target); null when the source gives none.';
COMMENT ON COLUMN sets.rest_s IS 'The rest programmed after the set, in seconds; null when the source gives none.';

CREATE TABLE rep_metrics (
    source_format   VARCHAR NOT NULL,
    athlete_id      VARCHAR NOT NULL,
    performed_at    TIMESTAMPTZ NOT NULL,
    exercise_key    VARCHAR NOT NULL,
    set_index       INTEGER NOT NULL,
    rep             INTEGER NOT NULL,
    rep_at          TIMESTAMPTZ,
    load_left_kg    DOUBLE,
    load_right_kg   DOUBLE,
    power_left_w    DOUBLE,
    power_right_w   DOUBLE,
    speed_left_m_s  DOUBLE,
    speed_right_m_s DOUBLE,
    rom_left_m      DOUBLE,
    rom_right_m     DOUBLE,
    file_id         VARCHAR NOT NULL,
    run_id          VARCHAR NOT NULL
);
COMMENT ON TABLE rep_metrics IS 'One row per rep of a set whose source records each rep (a connected cable machine): loads, power, rope speed and range of motion per side. Keyed by its set''s natural key and the rep number; stored once, with the set.';
COMMENT ON COLUMN rep_metrics.source_format IS 'The set''s source format (part of its natural key).';
COMMENT ON COLUMN rep_metrics.athlete_id IS 'The set''s athlete (part of its natural key).';
COMMENT ON COLUMN rep_metrics.performed_at IS 'The set''s time, as sets.performed_at (part of its natural key).';
COMMENT ON COLUMN rep_metrics.exercise_key IS 'The set''s exercise key, as sets.exercise_key (part of its natural key).';
COMMENT ON COLUMN rep_metrics.set_index IS 'The set''s number, as sets.set_index (part of its natural key).';
COMMENT ON COLUMN rep_metrics.rep IS 'The rep''s number within the set, from 1.';
COMMENT ON COLUMN rep_metrics.rep_at IS 'When the rep was done, to the millisecond (the earlier cable''s time).';
COMMENT ON COLUMN rep_metrics.load_left_kg IS 'Load on the left cable in kg, in the set''s unit converted as its load_kg; null when that side did not work.';
COMMENT ON COLUMN rep_metrics.load_right_kg IS 'Load on the right cable in kg; null when that side did not work.';
COMMENT ON COLUMN rep_metrics.power_left_w IS 'Mean power of the rep on the left cable, in watts.';
COMMENT ON COLUMN rep_metrics.power_right_w IS 'Mean power of the rep on the right cable, in watts.';
COMMENT ON COLUMN rep_metrics.speed_left_m_s IS 'Rope speed of the rep on the left cable, in m/s (the velocity of velocity-based training).';
COMMENT ON COLUMN rep_metrics.speed_right_m_s IS 'Rope speed of the rep on the right cable, in m/s.';
COMMENT ON COLUMN rep_metrics.rom_left_m IS 'Range of motion of the rep on the left cable, in metres (the machine''s amplitude).';
COMMENT ON COLUMN rep_metrics.rom_right_m IS 'Range of motion of the rep on the right cable, in metres.';
COMMENT ON COLUMN rep_metrics.file_id IS 'The file the rep came from (see ingested_files).';
COMMENT ON COLUMN rep_metrics.run_id IS 'The run that stored the rep.';

-- Velocity-based training reads a set by its bar (here rope) speed: how fast its reps were, and
-- how much speed the set lost from its fastest rep to its last, the usual measure of fatigue.
CREATE VIEW v_set_velocity AS
WITH rep AS (
    SELECT source_format, athlete_id, performed_at, exercise_key, set_index, rep,
           -- both cables, or the one that worked
           CASE WHEN speed_left_m_s IS NULL THEN speed_right_m_s
                WHEN speed_right_m_s IS NULL THEN speed_left_m_s
                ELSE (speed_left_m_s + speed_right_m_s) / 2 END AS speed,
           coalesce(power_left_w, 0) + coalesce(power_right_w, 0) AS power
    FROM rep_metrics
),
per_set AS (
    SELECT source_format, athlete_id, performed_at, exercise_key, set_index,
           count(*) AS reps_measured,
           avg(speed) AS mean_speed_m_s,
           max(speed) AS fastest_speed_m_s,
           arg_max(speed, rep) FILTER (WHERE speed IS NOT NULL) AS last_speed_m_s,
           avg(power) AS mean_power_w
    FROM rep GROUP BY ALL
)
SELECT s.athlete_id, s.session_id, s.exercise_id, s.exercise_raw, s.performed_at, s.set_index,
       s.reps, s.target_reps, s.load_kg, s.load_unit, p.reps_measured,
       round(p.mean_speed_m_s, 3) AS mean_speed_m_s,
       round(p.fastest_speed_m_s, 3) AS fastest_speed_m_s,
       round(p.last_speed_m_s, 3) AS last_speed_m_s,
       round(100 * (p.fastest_speed_m_s - p.last_speed_m_s) / nullif(p.fastest_speed_m_s, 0), 1)
           AS speed_loss_pct,
       round(p.mean_power_w, 1) AS mean_power_w
FROM per_set p
JOIN sets s USING (source_format, athlete_id, performed_at, exercise_key, set_index);
COMMENT ON VIEW v_set_velocity IS 'Per set with rep data (rep_metrics): mean rope speed, its fastest and last rep, and the speed loss from the fastest rep to the last, in percent, the usual fatigue measure of velocity-based training.';
COMMENT ON COLUMN v_set_velocity.athlete_id IS 'The athlete.';
COMMENT ON COLUMN v_set_velocity.session_id IS 'The session of the set.';
COMMENT ON COLUMN v_set_velocity.exercise_id IS 'Canonical exercise.';
COMMENT ON COLUMN v_set_velocity.exercise_raw IS 'The exercise name as in the source.';
COMMENT ON COLUMN v_set_velocity.performed_at IS 'When the set started (UTC).';
COMMENT ON COLUMN v_set_velocity.set_index IS 'The set''s number within the exercise in the session.';
COMMENT ON COLUMN v_set_velocity.reps IS 'Reps done.';
COMMENT ON COLUMN v_set_velocity.target_reps IS 'Reps asked for; null when the source gives none.';
COMMENT ON COLUMN v_set_velocity.load_kg IS 'The set''s load in kg.';
COMMENT ON COLUMN v_set_velocity.load_unit IS 'The athlete''s unit.';
COMMENT ON COLUMN v_set_velocity.reps_measured IS 'Reps with rep data.';
COMMENT ON COLUMN v_set_velocity.mean_speed_m_s IS 'Mean rope speed over the reps, in m/s (the mean of both cables where both worked).';
COMMENT ON COLUMN v_set_velocity.fastest_speed_m_s IS 'The fastest rep''s speed, in m/s.';
COMMENT ON COLUMN v_set_velocity.last_speed_m_s IS 'The last measured rep''s speed, in m/s.';
COMMENT ON COLUMN v_set_velocity.speed_loss_pct IS 'Speed lost from the fastest rep to the last, in percent of the fastest: 0 for a set that did not slow down.';
COMMENT ON COLUMN v_set_velocity.mean_power_w IS 'Mean power per rep, both cables together, in watts.';
