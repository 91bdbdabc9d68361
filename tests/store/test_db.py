"""Store files that are not ours, damaged, or written by two processes at once."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from pathlib import Path

import pytest

from harness.store import RunStore, StoreError
from harness.store.schema import APPLICATION_ID, SCHEMA_VERSION, TABLES
from tests.report.builders import runs


def _saved_store(path: Path, n: int = 1) -> RunStore:
    store = RunStore(path)
    for _ in range(n):
        store.save(runs()[1])
    _checkpoint(path)
    return store


def _checkpoint(path: Path) -> None:
    """Fold the WAL into the main file, so damaging the file really damages the data."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _every_operation(store: RunStore) -> list:
    return [lambda: store.save(runs()[0]), lambda: store.list(), lambda: store.load("latest")]


def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "runs.sqlite3"
    junk = b"these are my notes, not a database\n" * 200
    path.write_bytes(junk)
    for op in _every_operation(RunStore(path)):
        with pytest.raises(StoreError, match=f"{path}: run store is damaged or not an SQLite file"):
            op()
    assert path.read_bytes() == junk  # no silent overwrite


def test_a_truncated_store_is_reported_as_damaged(tmp_path):
    path = tmp_path / "runs.sqlite3"
    _saved_store(path, n=3)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(StoreError, match=str(path)):
        RunStore(path).load(1)
    assert path.stat().st_size == len(data) // 3


def test_garbage_inside_the_pages_is_reported_as_damaged(tmp_path):
    path = tmp_path / "runs.sqlite3"
    _saved_store(path, n=3)
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(page, len(data), page):  # keep the header page, scribble over every other one
        data[start:start + page] = os.urandom(page)
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=f"{path}: run store is damaged"):
        store = RunStore(path)
        store.list()
        store.load(1)


def test_a_foreign_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO customers (name) VALUES ('Ada')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    for op in _every_operation(RunStore(path)):
        with pytest.raises(StoreError, match=rf"{path}: this SQLite file belongs to another application .*customers"):
            op()
    assert path.read_bytes() == before


def test_a_database_with_another_application_id_is_refused_even_when_empty(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 1234")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="application_id=1234"):
        RunStore(path).save(runs()[0])


def test_a_store_from_a_newer_harness_is_refused(tmp_path):
    path = tmp_path / "runs.sqlite3"
    _saved_store(path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer than this adapter-harness understands"):
        RunStore(path).list()


def test_a_store_missing_its_tables_is_damaged(tmp_path):
    path = tmp_path / "runs.sqlite3"
    _saved_store(path)
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE scores")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="tables scores are missing"):
        RunStore(path).load(1)


def test_a_directory_is_not_a_store(tmp_path):
    with pytest.raises(StoreError, match="is a directory"):
        RunStore(tmp_path).save(runs()[0])


def test_migrations_create_exactly_the_declared_tables(tmp_path):
    path = tmp_path / "m.db"
    RunStore(path).list()  # nothing to list: an absent file is not created
    assert not path.exists()
    RunStore(path).save(runs()[0])
    conn = sqlite3.connect(path)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert names - {"sqlite_sequence", "harness_schema_version"} == TABLES
    assert APPLICATION_ID == 0x41485253


def _writer(path: str, n: int, barrier) -> None:
    barrier.wait()  # both processes start writing at the same moment
    baseline, candidate = runs()
    store = RunStore(path)
    for i in range(n):
        base = store.save(baseline)
        store.save(candidate, baseline_run=base)


def test_two_processes_writing_at_once_lose_and_corrupt_nothing(tmp_path):
    path = tmp_path / "shared.sqlite3"
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(2)
    workers = [ctx.Process(target=_writer, args=(str(path), 6, barrier)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0]
    store = RunStore(path)
    infos = store.list()
    assert len(infos) == 24 and len({i.id for i in infos}) == 24
    baseline, candidate = runs()
    for info in infos:  # every run is complete, and every candidate links to a baseline it wrote
        expected = candidate if info.baseline_run is not None else baseline
        assert store.load(info.id).to_dict() == expected.to_dict()
    assert sum(1 for i in infos if i.baseline_run is not None) == 12
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_a_read_only_store_says_so_and_where(tmp_path, monkeypatch):
    # Root ignores permission bits (CI runs as root), so the error path is faked at SQLite's answer.
    from sqlalchemy import exc

    from harness.store import db, dialects

    def readonly(conn, path):
        raise exc.OperationalError("PRAGMA", {}, sqlite3.OperationalError("attempt to write a readonly database"))

    monkeypatch.setattr(dialects, "prepare_sqlite", readonly)
    with pytest.raises(db.StoreError, match=r"runs\.sqlite3: run store is not writable \(check the permissions"):
        with db.connect(tmp_path / "runs.sqlite3", create=True):
            pass
