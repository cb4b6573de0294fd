"""The project file's schema, in one place, with its version.

Bump ``SCHEMA_VERSION`` and add a step to ``MIGRATIONS`` for every change; opening an
older project writes a backup beside it before migrating (see ``store.py``).
"""

from __future__ import annotations

SCHEMA_VERSION = 3

# Version 2: the preference examples table (additive; older files get it through MIGRATIONS[1]).
PREFERENCE_SQL = """
-- Preference examples: a prompt with a preferred and a dispreferred answer (schema version 2).
-- `pos` orders them as the user sees them; `source` names the review vote or correction an example
-- came from (review:<run>:<example>, correction:<run>:<example>:<slot>), empty otherwise.
CREATE TABLE IF NOT EXISTS preference_examples (
    id                 INTEGER PRIMARY KEY,
    pos                REAL    NOT NULL,
    prompt             TEXT    NOT NULL DEFAULT '',
    preferred          TEXT    NOT NULL DEFAULT '',
    dispreferred       TEXT    NOT NULL DEFAULT '',
    system_instruction TEXT    NOT NULL DEFAULT '',
    split              TEXT    NOT NULL DEFAULT 'train',
    tags               TEXT    NOT NULL DEFAULT '',
    note               TEXT    NOT NULL DEFAULT '',
    source             TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS preference_examples_pos ON preference_examples(pos);
CREATE INDEX IF NOT EXISTS preference_examples_source ON preference_examples(source);
"""

# The complete schema of the current version, for new projects.
SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Dataset-level settings: preamble, system_instruction, target, split_seed, split_ratios...
CREATE TABLE IF NOT EXISTS dataset_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per example; `pos` orders the rows as the user sees them (gaps allowed).
CREATE TABLE IF NOT EXISTS examples (
    id     INTEGER PRIMARY KEY,
    pos    REAL    NOT NULL,
    input  TEXT    NOT NULL DEFAULT '',
    output TEXT    NOT NULL DEFAULT '',
    split  TEXT    NOT NULL DEFAULT 'train',
    tags   TEXT    NOT NULL DEFAULT '',
    note   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS examples_pos ON examples(pos);

-- Every tuning job submitted from this project (recorded before the first poll) and
-- jobs seen on the service. `submit_key` makes a double submit record one job.
CREATE TABLE IF NOT EXISTS jobs (
    id               INTEGER PRIMARY KEY,
    submit_key       TEXT UNIQUE,
    connection_kind  TEXT NOT NULL,          -- sandbox | agent_platform | gemini_api
    backend          TEXT NOT NULL,          -- agent-platform | gemini-api (API flavour)
    connection_id    TEXT NOT NULL DEFAULT '',
    resource_name    TEXT NOT NULL DEFAULT '',  -- tuningJobs/... or tunedModels/...
    display_name     TEXT NOT NULL DEFAULT '',
    base_model       TEXT NOT NULL DEFAULT '',
    hyperparameters  TEXT NOT NULL DEFAULT '{}',  -- JSON
    dataset_hash     TEXT NOT NULL DEFAULT '',
    dataset_name     TEXT NOT NULL DEFAULT '',
    train_count      INTEGER NOT NULL DEFAULT 0,
    validation_count INTEGER NOT NULL DEFAULT 0,
    train_tokens     INTEGER NOT NULL DEFAULT 0,
    from_project     INTEGER NOT NULL DEFAULT 1,
    created_at       TEXT NOT NULL,           -- ISO 8601 UTC
    started_at       TEXT NOT NULL DEFAULT '',
    ended_at         TEXT NOT NULL DEFAULT '',
    updated_at       TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL DEFAULT 'SUBMITTING',  -- JobState value
    phase            TEXT NOT NULL DEFAULT '',  -- tuning_job_state on Agent Platform
    total_steps      INTEGER NOT NULL DEFAULT 0,
    completed_steps  INTEGER NOT NULL DEFAULT 0,
    tuned_model      TEXT NOT NULL DEFAULT '',
    endpoint         TEXT NOT NULL DEFAULT '',
    checkpoints      TEXT NOT NULL DEFAULT '[]',  -- JSON list
    data_stats       TEXT NOT NULL DEFAULT '{}',  -- JSON: tuning_data_stats as reported
    error            TEXT NOT NULL DEFAULT '',
    experiment       TEXT NOT NULL DEFAULT '',
    deleted          INTEGER NOT NULL DEFAULT 0
);

-- Cached loss curves, so a finished job's curve shows offline.
CREATE TABLE IF NOT EXISTS loss_points (
    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    series TEXT    NOT NULL,              -- train | validation
    step   INTEGER NOT NULL,
    epoch  REAL,
    value  REAL    NOT NULL,
    PRIMARY KEY (job_id, series, step)
) WITHOUT ROWID;

-- Test tab console history.
CREATE TABLE IF NOT EXISTS console_history (
    id          INTEGER PRIMARY KEY,
    created_at  TEXT NOT NULL,
    model       TEXT NOT NULL,
    model_label TEXT NOT NULL DEFAULT '',
    prompt      TEXT NOT NULL,
    request     TEXT NOT NULL DEFAULT '{}',   -- JSON: settings, system instruction, preamble applied
    response    TEXT NOT NULL DEFAULT '{}',   -- JSON: candidates, finish reasons, ratings, usage
    latency_ms  INTEGER NOT NULL DEFAULT 0
);

-- Batch evaluation runs and their rows.
CREATE TABLE IF NOT EXISTS eval_runs (
    id         INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    source     TEXT NOT NULL DEFAULT '',      -- validation | test | selection
    models     TEXT NOT NULL DEFAULT '[]',    -- JSON list of model ids (1 or 2)
    settings   TEXT NOT NULL DEFAULT '{}',    -- JSON generation settings
    status     TEXT NOT NULL DEFAULT 'running',  -- running | stopped | done
    metrics    TEXT NOT NULL DEFAULT '{}'     -- JSON summary per model
);
CREATE TABLE IF NOT EXISTS eval_rows (
    run_id        INTEGER NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
    example_id    INTEGER NOT NULL,
    slot          INTEGER NOT NULL,           -- 0 or 1: which model
    input         TEXT NOT NULL,
    expected      TEXT NOT NULL,
    actual        TEXT NOT NULL DEFAULT '',
    finish_reason TEXT NOT NULL DEFAULT '',
    blocked       TEXT NOT NULL DEFAULT '',   -- harm category when blocked
    latency_ms    INTEGER NOT NULL DEFAULT 0,
    error         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, example_id, slot)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS eval_reviews (
    run_id     INTEGER NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
    example_id INTEGER NOT NULL,
    choice     TEXT NOT NULL,                 -- a | b | tie (slot 0 | slot 1 | tie)
    PRIMARY KEY (run_id, example_id)
) WITHOUT ROWID;
""" + PREFERENCE_SQL

# Version 3: the judge and its agreement with the expert, Google's Gen AI evaluation service,
# settings sweeps and batch-engine jobs (all additive; see EVALUATION_V2_SQL).
EVALUATION_V2_SQL = """
-- The judge of an evaluation run: the expert's rubric and the judge model (judging again replaces it).
CREATE TABLE IF NOT EXISTS eval_judges (
    run_id     INTEGER PRIMARY KEY REFERENCES eval_runs(id) ON DELETE CASCADE,
    rubric     TEXT NOT NULL,
    model      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'running'   -- running | stopped | done
);
CREATE TABLE IF NOT EXISTS eval_judgements (
    run_id      INTEGER NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
    example_id  INTEGER NOT NULL,
    slot        INTEGER NOT NULL,
    verdict     TEXT NOT NULL DEFAULT '',        -- pass | fail | '' when there is no verdict (see error)
    score       REAL,                            -- share of rubric points met (0..1)
    explanation TEXT NOT NULL DEFAULT '',
    criteria    TEXT NOT NULL DEFAULT '[]',      -- JSON [{point, met, reason}]
    error       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, example_id, slot)
) WITHOUT ROWID;
-- The expert's own rating of single answers, compared with the judge's verdicts.
CREATE TABLE IF NOT EXISTS eval_ratings (
    run_id     INTEGER NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
    example_id INTEGER NOT NULL,
    slot       INTEGER NOT NULL,
    rating     TEXT NOT NULL,                    -- pass | fail
    PRIMARY KEY (run_id, example_id, slot)
) WITHOUT ROWID;
-- Scores from Google's Gen AI evaluation service (Agent Platform evaluateInstances).
CREATE TABLE IF NOT EXISTS eval_service_scores (
    run_id      INTEGER NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
    example_id  INTEGER NOT NULL,
    slot        INTEGER NOT NULL,                -- -1 for a pairwise comparison of slots 0 and 1
    metric      TEXT NOT NULL,                   -- fluency | coherence | safety | groundedness | pairwise
    score       REAL,
    choice      TEXT NOT NULL DEFAULT '',        -- pairwise: BASELINE | CANDIDATE | TIE
    explanation TEXT NOT NULL DEFAULT '',
    confidence  REAL,
    error       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, example_id, slot, metric)
) WITHOUT ROWID;
-- Settings sweeps: the same rows over a grid of generation or safety settings, one evaluation run per point.
CREATE TABLE IF NOT EXISTS sweeps (
    id          INTEGER PRIMARY KEY,
    created_at  TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    model       TEXT NOT NULL,
    grid        TEXT NOT NULL DEFAULT '{}',      -- JSON: the axes and their values
    base        TEXT NOT NULL DEFAULT '{}',      -- JSON: settings not swept, texts applied
    example_ids TEXT NOT NULL DEFAULT '[]',
    estimate    TEXT NOT NULL DEFAULT '{}',      -- JSON: calls, tokens, cost as estimated before starting
    status      TEXT NOT NULL DEFAULT 'running'  -- running | stopped | done
);
CREATE TABLE IF NOT EXISTS sweep_points (
    sweep_id INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
    point    INTEGER NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',         -- JSON: the axis values at this point
    run_id   INTEGER NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
    PRIMARY KEY (sweep_id, point)
) WITHOUT ROWID;
-- Batch-engine jobs (Agent Platform batchPredictionJobs, Gemini API batches) answering an evaluation run.
CREATE TABLE IF NOT EXISTS batch_jobs (
    id              INTEGER PRIMARY KEY,
    run_id          INTEGER NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
    slot            INTEGER NOT NULL DEFAULT 0,
    backend         TEXT NOT NULL,               -- agent-platform | gemini-api
    connection_kind TEXT NOT NULL DEFAULT '',
    resource_name   TEXT NOT NULL DEFAULT '',    -- projects/.../batchPredictionJobs/ID or batches/ID
    model           TEXT NOT NULL,
    input_ref       TEXT NOT NULL DEFAULT '',    -- gs://... or files/...
    output_ref      TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL DEFAULT 'SUBMITTING',
    rows            INTEGER NOT NULL DEFAULT 0,
    succeeded       INTEGER NOT NULL DEFAULT 0,
    failed          INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL DEFAULT '',
    error           TEXT NOT NULL DEFAULT '',
    ingested        INTEGER NOT NULL DEFAULT 0   -- 1 once the results are stored as the run's rows
);
"""

SCHEMA_SQL += EVALUATION_V2_SQL

# MIGRATIONS[n] upgrades a version-n file to version n+1.
MIGRATIONS: dict[int, str] = {
    1: PREFERENCE_SQL,
    2: EVALUATION_V2_SQL,
}
