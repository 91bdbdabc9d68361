"""A store written by an older harness is migrated in place, its runs kept, the cache added."""

from __future__ import annotations

import dataclasses
import sqlite3

from harness.backend import GenerationRequest
from harness.backends.cached import CachedBackend
from harness.store import RunStore
from harness.store.result_cache import ResultCache
from harness.store.schema import SCHEMA_VERSION
from tests.backends.test_cached import IDENTITY, CountingBackend
from tests.report.builders import passing_run, runs
from tests.store.legacy_sqlite import legacy_store


def _version_1_store(path) -> None:
    """A store exactly as schema version 1 left it, holding one run."""
    conn = legacy_store(path, 1)
    conn.execute(
        "INSERT INTO runs (created_at, model, adapter, model_sha256, adapter_sha256, identity_details,"
        " baseline_identity, baseline_run, harness_version, versions, provenance, seconds, verdict)"
        " VALUES ('2025-01-01T00:00:00+00:00', 'old-model', NULL, ?, NULL, '{}', NULL, NULL, '0.0.9',"
        " '{}', '{}', 1.5, 'pass')", ("c" * 64,))
    conn.execute("INSERT INTO suites VALUES (1, 'suites/old.yaml', 0, 'old', NULL, NULL, NULL, '{}', 'pass')")
    conn.commit()
    conn.close()


def test_a_version_1_store_is_migrated_and_keeps_its_runs(tmp_path):
    path = tmp_path / "runs.sqlite3"
    _version_1_store(path)
    store = RunStore(path)
    old = store.load(1)
    assert old.identity.model == "old-model" and old.identity.model_sha256 == "c" * 64
    assert old.identity.tokenizer_sha256 is None
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 6
    conn.close()

    backend = CountingBackend()
    CachedBackend(backend, ResultCache(path)).generate([GenerationRequest("hi")])
    assert ResultCache(path).count() == 1


def test_the_tokenizer_hash_round_trips_through_the_store(tmp_path):
    base, cand = runs()
    cand.identity = dataclasses.replace(cand.identity, tokenizer_sha256="f" * 64)
    store = RunStore(tmp_path / "runs.sqlite3")
    run_id = store.save(cand, baseline_run=store.save(base))
    assert store.load(run_id).to_dict() == cand.to_dict()
    assert store.load(run_id).identity.tokenizer_sha256 == "f" * 64


def test_identity_keeps_positional_construction():
    # Older code builds identities positionally; the new field comes last so it still works.
    assert IDENTITY.details["backend"] == "fake" and IDENTITY.tokenizer_sha256 == "t" * 64


def test_the_rendered_prompt_round_trips_and_old_runs_have_none(tmp_path):
    path = tmp_path / "runs.sqlite3"
    _version_1_store(path)
    store = RunStore(path)
    assert store.load(1).suites["suites/old.yaml"].rendered_prompt is None
    base, cand = runs()
    first = next(iter(cand.suites.values()))
    first.rendered_prompt = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    loaded = store.load(store.save(cand))
    assert next(iter(loaded.suites.values())).rendered_prompt == first.rendered_prompt


def test_cases_that_could_not_be_scored_round_trip_and_keep_the_verdict(tmp_path):
    # A report rebuilt from the store must say which cases were never scored and why, and a
    # critical one among them still fails its suite (SuiteResult.passed reads it back).
    path = tmp_path / "runs.sqlite3"
    _version_1_store(path)
    store = RunStore(path)
    old = store.load(1).suites["suites/old.yaml"]
    assert old.not_evaluated == {} and old.critical_not_evaluated == {}
    cand = passing_run()
    first = next(iter(cand.suites.values()))
    assert first.passed  # it passes until a critical case goes unscored
    first.not_evaluated = {"mc-capital": "the server returns no prompt log-probabilities", "mc-ocean": "same"}
    first.critical_not_evaluated = {"mc-capital": 12}
    assert first.verdict == "fail"
    loaded = next(iter(store.load(store.save(cand)).suites.values()))
    assert loaded.not_evaluated == first.not_evaluated
    assert loaded.critical_not_evaluated == {"mc-capital": 12}
    assert loaded.verdict == "fail" and not loaded.passed
