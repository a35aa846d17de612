-- Assisted exercises (issue 22): on an assisted pull-up or dip the logged load is help, not
-- resistance, so the rules mirror everything about load. The catalog says which exercises are
-- assisted. DuckDB cannot add a NOT NULL column to a table, nor DuckLake set NOT NULL on one,
-- so the table is made again: it holds only the catalog, which every run writes from
-- config/exercises.toml before anything loads.
DROP TABLE exercises;
CREATE TABLE exercises (
    exercise_id VARCHAR NOT NULL,
    name        VARCHAR NOT NULL,
    program_id  VARCHAR NOT NULL,
    aliases     VARCHAR[] NOT NULL,
    assisted    BOOLEAN NOT NULL DEFAULT false
);
COMMENT ON TABLE exercises IS 'The exercise catalog from config/exercises.toml and programs.toml, refreshed every run.';
COMMENT ON COLUMN exercises.exercise_id IS 'Canonical exercise id (a slug).';
COMMENT ON COLUMN exercises.name IS 'Display name.';
COMMENT ON COLUMN exercises.program_id IS 'The progression program the exercise follows.';
COMMENT ON COLUMN exercises.aliases IS 'Matching keys (lower-cased, white space collapsed) of every name that maps here.';
COMMENT ON COLUMN exercises.assisted IS 'The logged load is help (an assisted pull-up or dip, a counterweight machine, a band): less of it is progress, and the rules mirror every load decision.';
