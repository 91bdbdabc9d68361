"""The SQLite schema exactly as releases before Alembic wrote it: hand-written SQL, versioned by
``PRAGMA user_version``. A frozen copy (never edit it), so the tests can build the stores those
releases left behind and check that today's code migrates and reads them.
"""

from __future__ import annotations

import sqlite3

APPLICATION_ID = int.from_bytes(b"AHRS", "big")

_V1 = """
CREATE TABLE runs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at        TEXT    NOT NULL,             -- UTC, ISO 8601
    model             TEXT    NOT NULL,
    adapter           TEXT,
    model_sha256      TEXT,
    adapter_sha256    TEXT,
    identity_details  TEXT    NOT NULL,             -- JSON: ModelIdentity.details
    baseline_identity TEXT,                         -- JSON: ModelIdentity the thresholds compared with
    baseline_run      INTEGER REFERENCES runs(id),  -- the stored run of that baseline, when saved with it
    harness_version   TEXT    NOT NULL,
    versions          TEXT    NOT NULL,             -- JSON: python / torch / transformers / peft at save time
    provenance        TEXT    NOT NULL,             -- JSON: adapter manifest (recipe, data hashes), may be {}
    seconds           REAL    NOT NULL,
    verdict           TEXT    NOT NULL              -- 'pass' | 'fail'
);
CREATE TABLE suites (
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    path       TEXT    NOT NULL,
    position   INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    sha256     TEXT,                                -- suite file as it was when the run was saved
    generation TEXT,                                -- JSON: the suite's generation settings
    skipped    TEXT,
    metrics    TEXT    NOT NULL,                    -- JSON object, in the run's order
    verdict    TEXT    NOT NULL,
    PRIMARY KEY (run_id, path)
);
CREATE TABLE thresholds (
    run_id           INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    suite_path       TEXT    NOT NULL,
    position         INTEGER NOT NULL,
    key              TEXT    NOT NULL,
    rule             TEXT    NOT NULL,
    line             INTEGER NOT NULL,
    value            REAL,
    n_cases          INTEGER NOT NULL,
    holds            INTEGER NOT NULL,
    higher_is_better INTEGER NOT NULL,
    max_regression   REAL    NOT NULL,
    baseline         REAL,
    PRIMARY KEY (run_id, suite_path, position)
);
CREATE TABLE cases (
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    suite_path TEXT    NOT NULL,
    position   INTEGER NOT NULL,
    case_id    TEXT    NOT NULL,
    line       INTEGER NOT NULL,
    prompt     TEXT    NOT NULL,                    -- JSON: a string, or [[role, content], ...]
    output     TEXT,
    tags       TEXT    NOT NULL,                    -- JSON list
    critical   INTEGER NOT NULL,
    passed     INTEGER NOT NULL,                    -- denormalised for queries; rebuilt from scores
    PRIMARY KEY (run_id, suite_path, case_id)
);
CREATE TABLE scores (
    run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    suite_path  TEXT    NOT NULL,
    case_id     TEXT    NOT NULL,
    position    INTEGER NOT NULL,
    "check"     TEXT    NOT NULL,
    value       REAL    NOT NULL,
    passed      INTEGER NOT NULL,
    explanation TEXT    NOT NULL,
    metrics     TEXT    NOT NULL,                   -- JSON object
    PRIMARY KEY (run_id, suite_path, case_id, position)
);
CREATE INDEX runs_created ON runs(created_at);
"""

# v2: the tokenizer hash of a run's model, and the result cache (harness/backends/cached.py).
# A cached result is found by ``key``: the sha256 of everything that decides it (model,
# adapter and tokenizer hashes, backend settings, harness version, the request). ``scope``
# is the hash of all of that but the request, so one model's entries can be listed or dropped.
_V2 = """
ALTER TABLE runs ADD COLUMN tokenizer_sha256 TEXT;
CREATE TABLE result_cache (
    key        TEXT PRIMARY KEY,                    -- sha256 hex of scope + kind + request
    scope      TEXT NOT NULL,                       -- sha256 hex of model / adapter / tokenizer / settings / version
    kind       TEXT NOT NULL,                       -- 'generate' | 'loglikelihood'
    output     TEXT,                                -- generate: the completion
    logprob    REAL,                                -- loglikelihood: the summed log-prob
    created_at TEXT NOT NULL                        -- UTC, ISO 8601
) WITHOUT ROWID;
CREATE INDEX result_cache_scope ON result_cache(scope);
"""

# v3: sentence embeddings of texts the ``similarity`` check compared (harness/store/embeddings.py),
# so an unchanged re-run neither loads the embedding model nor embeds anything again.
_V3 = """
CREATE TABLE embedding_cache (
    model  TEXT NOT NULL,                           -- sha256 hex of the embedding model's files + library versions
    text   TEXT NOT NULL,                           -- sha256 hex of the embedded text
    vector BLOB NOT NULL,                           -- float32 little-endian, unit length
    PRIMARY KEY (model, text)
) WITHOUT ROWID;
"""

# v4: the regression rule's evidence per threshold: the one-sided upper confidence bound of the
# paired drop (NULL: decided on the point difference) and the rule in words; and, for cases
# generated k times (generation.samples), every sampled output and the share that passed.
_V4 = """
ALTER TABLE thresholds ADD COLUMN drop_upper REAL;
ALTER TABLE thresholds ADD COLUMN decision TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN samples TEXT NOT NULL DEFAULT '[]';  -- JSON list of outputs
ALTER TABLE cases ADD COLUMN pass_fraction REAL;
"""

# v5: each suite's first prompt as the model saw it (its chat template applied), so a report can
# show whether two runs rendered their prompts the same way.
_V5 = """
ALTER TABLE suites ADD COLUMN rendered_prompt TEXT;
"""

LEGACY_MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5)


def statements(script: str) -> list[str]:
    """Split a migration into statements, as the old store did."""
    out, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line.split("--", 1)[0] if "--" in line else line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    return out


def legacy_store(path, version: int) -> sqlite3.Connection:
    """An SQLite store as a release of schema ``version`` created it (empty); the caller closes it."""
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    for script in LEGACY_MIGRATIONS[:version]:
        for statement in statements(script):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    return conn
