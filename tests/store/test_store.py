"""The run store: exact round trip, run references, identity and provenance, links between runs.

Tests taking the ``store`` fixture run twice: on an SQLite file and on a real PostgreSQL database.
"""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from harness.errors import HarnessError
from harness.results import RunResult
from harness.store import ENV, RunStore, default_path, record
from harness.store.schema import APPLICATION_ID, SCHEMA_VERSION
from tests.report.builders import runs


@pytest.fixture
def store(store_spec: str) -> RunStore:
    return RunStore(store_spec)


def test_round_trip_rebuilds_the_run_exactly(store):
    baseline, candidate = runs()
    base_id = store.save(baseline)
    cand_id = store.save(candidate, baseline_run=base_id)
    assert store.load(base_id).to_dict() == baseline.to_dict()
    loaded = store.load(cand_id)
    assert loaded.to_dict() == candidate.to_dict()
    # Types survive too, not only their JSON form: chat prompts stay hashable tuples, skips stay skips.
    chat = loaded.suites["suites/politeness.yaml"].cases["chat-ounces"]
    assert chat.prompt == (("system", "Be brief."), ("user", "How many ounces in a pound?"))
    assert isinstance(chat.tags, tuple)
    assert loaded.identity == candidate.identity and loaded.identity.details == candidate.identity.details
    assert loaded.baseline == baseline.identity
    assert loaded.suites["suites/truthfulqa.yaml"].verdict == "skipped"
    assert [t.regressed for t in loaded.suites["suites/refusals.yaml"].thresholds] == [True]
    assert loaded.passed is False


def test_outputs_and_explanations_are_stored_verbatim(store):
    _, candidate = runs()
    case = candidate.suites["suites/politeness.yaml"].cases["hostile-output"]
    run_id = store.save(candidate)
    again = store.load(run_id).suites["suites/politeness.yaml"].cases["hostile-output"]
    assert again.output == case.output and "<script>" in again.output
    assert again.prompt == case.prompt


def test_ids_are_small_integers_and_latest_resolves(store):
    baseline, candidate = runs()
    ids = [store.save(baseline), store.save(candidate), store.save(candidate)]
    assert ids == [1, 2, 3]
    assert store.resolve("latest") == 3
    assert store.resolve("latest~1") == 2
    assert store.resolve("latest~2") == 1
    assert store.resolve("2") == 2 and store.resolve(2) == 2
    assert store.load("latest~2").to_dict() == baseline.to_dict()


@pytest.mark.parametrize("ref, message", [
    ("latest~3", "the store holds 3 run(s)"),
    ("99", "no run 99; recent runs: 3, 2, 1"),
    ("newest", "is not a run id"),
    ("latest~x", "is not a run id"),
])
def test_bad_run_references_are_explained(store, ref, message):
    baseline, candidate = runs()
    for run in (baseline, candidate, candidate):
        store.save(run)
    with pytest.raises(HarnessError, match=message.replace("(", r"\(").replace(")", r"\)")):
        store.resolve(ref)


def test_list_is_newest_first_with_identity_and_verdict(store):
    baseline, candidate = runs()
    base_id = store.save(baseline)
    cand_id = store.save(candidate, baseline_run=base_id, provenance={"recipe": "sft", "data": {"sft": "ab12"}})
    listed = store.list()
    assert [i.id for i in listed] == [cand_id, base_id]
    top = listed[0]
    assert top.label() == "HuggingFaceTB/SmolLM2-135M-Instruct + adapters/polite"
    assert top.verdict == "fail" and top.suites == ("politeness", "refusals", "truthfulqa")
    assert top.baseline_run == base_id
    assert top.provenance == {"recipe": "sft", "data": {"sft": "ab12"}}
    assert top.versions["torch"] == "2.13.0" and top.versions["peft"] == "0.17.0"  # as the backend recorded them
    assert "peft" not in listed[1].versions  # no adapter, no peft
    assert store.list(limit=1) == listed[:1]
    assert store.info("latest") == top


def test_suite_files_are_hashed_with_their_generation_settings(store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    suite_file = tmp_path / "suites" / "politeness.yaml"
    suite_file.parent.mkdir()
    suite_file.write_text("name: politeness\ngeneration: {max_new_tokens: 96, greedy: true}\ncases: []\n")
    _, candidate = runs()
    info = store.info(store.save(candidate))
    assert info.suite_sha256["suites/politeness.yaml"] == hashlib.sha256(suite_file.read_bytes()).hexdigest()
    assert info.generation["suites/politeness.yaml"] == {"max_new_tokens": 96, "greedy": True}
    assert info.suite_sha256["suites/refusals.yaml"] is None  # not on disk: recorded as unknown, not invented


def test_a_missing_baseline_link_is_refused(store):
    _, candidate = runs()
    with pytest.raises(HarnessError, match="baseline run 7 is not in the store"):
        store.save(candidate, baseline_run=7)
    assert store.list() == []  # the failed save left nothing behind


def test_provenance_must_be_json(store):
    _, candidate = runs()
    with pytest.raises(HarnessError, match="provenance must be JSON"):
        store.save(candidate, provenance={"when": object()})


def test_file_is_marked_versioned_and_in_wal_mode(tmp_path):
    store = RunStore(tmp_path / "data" / "runs.sqlite3")
    store.save(runs()[0])
    conn = sqlite3.connect(store.path)
    try:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


def test_listing_an_absent_store_creates_nothing(tmp_path):
    store = RunStore(tmp_path / "none.sqlite3")
    assert store.list() == []
    assert not store.path.exists()
    with pytest.raises(HarnessError, match="no run store yet"):
        store.load("latest")


def test_default_path_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV, str(tmp_path / "x.sqlite3"))
    assert default_path() == tmp_path / "x.sqlite3"
    assert RunStore().path == tmp_path / "x.sqlite3"
    monkeypatch.delenv(ENV)
    path = default_path()
    assert path.name == "runs.sqlite3" and "adapter-harness" in path.parts


def test_record_saves_the_pair_linked_or_nothing_when_off(monkeypatch, tmp_path):
    baseline, candidate = runs()
    monkeypatch.setenv(ENV, str(tmp_path / "r.sqlite3"))
    cand_id, base_id = record(candidate, baseline, provenance={"recipe": "dpo"})
    store = RunStore()
    assert store.info(cand_id).baseline_run == base_id
    assert store.load(base_id).to_dict() == baseline.to_dict()
    assert record(candidate) == (3, None)
    monkeypatch.setenv(ENV, "off")
    assert record(candidate, baseline) is None
    assert len(RunStore(tmp_path / "r.sqlite3").list()) == 3


def test_an_empty_run_round_trips(store):
    empty = RunResult(runs()[0].identity, {}, 0.0, "0.1.0")
    assert store.load(store.save(empty)).to_dict() == empty.to_dict()


def test_numpy_numbers_from_custom_scorers_are_stored_as_plain_numbers(store):
    np = pytest.importorskip("numpy")
    from harness.scorers import Score

    _, candidate = runs()
    case = candidate.suites["suites/politeness.yaml"].cases["chat-ounces"]
    case.checks[0].score = Score(np.float32(0.75), np.bool_(True), "custom", {"tone": np.float64(0.5)})
    candidate.suites["suites/politeness.yaml"].metrics["tone"] = np.float32(0.5)
    loaded = store.load(store.save(candidate))
    again = loaded.suites["suites/politeness.yaml"]
    score = again.cases["chat-ounces"].checks[0].score
    assert (score.value, score.passed, dict(score.metrics)) == (0.75, True, {"tone": 0.5})
    assert type(score.value) is float and type(score.passed) is bool
    assert again.metrics["tone"] == 0.5
