"""The run store's SQL schema and its migrations.

A store file is identified by ``PRAGMA application_id`` (so a foreign SQLite file is
recognised, never written to) and versioned by ``PRAGMA user_version``. ``MIGRATIONS[i]``
takes a store from version ``i`` to ``i + 1``; opening an older store applies the missing
steps in one transaction. New tables (for example a result cache keyed by model hash,
adapter hash, tokenizer/template hash, prompt, generation parameters and harness
version) are added by appending a migration, never by editing an existing one.
"""

from __future__ import annotations

# "AHRS" (adapter-harness run store) as a signed 32-bit integer, as SQLite stores it.
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

# MIGRATIONS[i]: SQL that upgrades a store from user_version i to i + 1.
MIGRATIONS: tuple[str, ...] = (_V1,)
SCHEMA_VERSION = len(MIGRATIONS)

# Tables every current store has; a file with other tables only is not ours.
TABLES = frozenset({"runs", "suites", "thresholds", "cases", "scores"})
