"""One schema on both engines: what the migrations build, old SQLite stores, 8 writers at once, PG failures."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from harness.store import RunStore, StoreError
from harness.store.location import Location, locate
from harness.store.result_cache import ResultCache
from harness.store.schema import SCHEMA_VERSION, TABLES, VERSION_TABLE, metadata
from tests.report.builders import runs
from tests.store.legacy_sqlite import LEGACY_MIGRATIONS, legacy_store


def _engine(spec: str) -> sa.Engine:
    return sa.create_engine(locate(spec).sqlalchemy_url())


def _shape(engine: sa.Engine) -> dict[str, tuple]:
    """Per table: (column names in order, primary key columns, NOT NULL columns besides the key).

    Key columns are left out of the NOT NULLs: SQLite reports its rowid alias as nullable.
    """
    inspector = sa.inspect(engine)
    shape = {}
    for table in sorted(set(inspector.get_table_names()) - {"sqlite_sequence", VERSION_TABLE}):
        columns = inspector.get_columns(table)
        key = tuple(inspector.get_pk_constraint(table)["constrained_columns"])
        shape[table] = ([c["name"] for c in columns], key,
                        tuple(sorted(c["name"] for c in columns if not c["nullable"] and c["name"] not in key)))
    return shape


DECLARED = {name: ([c.name for c in t.columns], tuple(c.name for c in t.primary_key.columns),
                   tuple(sorted(c.name for c in t.columns if not c.nullable and not c.primary_key)))
            for name, t in metadata.tables.items()}


def test_the_migrations_build_the_declared_schema_on_both_engines(store_spec):
    RunStore(store_spec).save(runs()[0])
    engine = _engine(store_spec)
    try:
        assert _shape(engine) == DECLARED
        with engine.connect() as conn:
            assert conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar() == f"{SCHEMA_VERSION:04d}"
    finally:
        engine.dispose()


# Releases before Alembic wrote schema versions 1-5; later versions exist only as Alembic revisions.
@pytest.mark.parametrize("version", range(1, len(LEGACY_MIGRATIONS) + 1))
def test_a_store_from_a_release_before_alembic_is_migrated_to_the_same_schema(tmp_path, version):
    path = tmp_path / f"v{version}.sqlite3"
    legacy_store(path, version).close()
    store = RunStore(path)
    run_id = store.save(runs()[0])
    assert store.load(run_id).to_dict() == runs()[0].to_dict()
    shape = _shape(_engine(str(path)))
    # Same tables, columns, keys and NOT NULLs as a new store (column order follows ALTER TABLE history).
    assert {t: (sorted(c), pk, nn) for t, (c, pk, nn) in shape.items()} == \
        {t: (sorted(c), pk, nn) for t, (c, pk, nn) in DECLARED.items()}
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    if version < SCHEMA_VERSION:  # upgraded by Alembic, which now records the version
        assert conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()[0] == f"{SCHEMA_VERSION:04d}"
    conn.close()


# ------------------------------------------------------------------ 8 writers at once

WRITERS, PAIRS = 8, 3


def _writer(spec: str, index: int, barrier, seconds) -> None:
    barrier.wait()  # every process starts at the same moment, on a store that has no tables yet
    baseline, candidate = runs()
    store = RunStore(spec)
    start = time.perf_counter()
    for i in range(PAIRS):
        base = store.save(baseline)
        store.save(candidate, baseline_run=base)
        ResultCache(spec).put("generate", "scope", {f"shared-{i}": "same", f"own-{index}-{i}": "mine"})
    seconds[index] = time.perf_counter() - start


def test_eight_writers_at_once_lose_and_corrupt_nothing(store_spec, capsys):
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(WRITERS)
    seconds = ctx.Array("d", WRITERS)
    workers = [ctx.Process(target=_writer, args=(store_spec, i, barrier, seconds)) for i in range(WRITERS)]
    wall = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join(300)
    wall = time.perf_counter() - wall
    assert [w.exitcode for w in workers] == [0] * WRITERS

    store = RunStore(store_spec)
    infos = store.list()
    total = 2 * WRITERS * PAIRS
    assert len(infos) == total and len({i.id for i in infos}) == total
    baseline, candidate = runs()
    for info in infos:  # every run complete; every candidate links to a baseline, which is a baseline run
        expected = candidate if info.baseline_run is not None else baseline
        assert store.load(info.id).to_dict() == expected.to_dict()
        if info.baseline_run is not None:
            assert store.info(info.baseline_run).baseline_run is None
    assert sum(1 for i in infos if i.baseline_run is not None) == WRITERS * PAIRS
    assert ResultCache(store_spec).count() == PAIRS + WRITERS * PAIRS  # shared keys stored once
    engine = _engine(store_spec)
    with engine.connect() as conn:  # no orphan rows: every case belongs to a stored run
        orphans = conn.execute(sa.text("SELECT COUNT(*) FROM cases WHERE run_id NOT IN (SELECT id FROM runs)")).scalar()
        per_run = conn.execute(sa.text("SELECT COUNT(DISTINCT n) FROM (SELECT run_id, COUNT(*) AS n FROM scores "
                                       "GROUP BY run_id) AS counted")).scalar()
    engine.dispose()
    assert orphans == 0 and per_run <= 2  # baseline runs and candidate runs, each the same size
    with capsys.disabled():  # the figure for the docs: runs stored per second with 8 writers
        engine_name = "postgresql" if store_spec.startswith("postgresql") else "sqlite"
        print(f"\n[{engine_name}] {WRITERS} writers, {total} runs + {WRITERS * PAIRS} cache writes: "
              f"{wall:.2f} s wall, slowest writer {max(seconds):.2f} s, {total / wall:.1f} runs/s")


# ------------------------------------------------------------------ PostgreSQL failures

def test_a_database_with_tables_named_like_ours_is_refused(postgres):
    url = postgres.new_database()
    engine = _engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE runs (id SERIAL PRIMARY KEY, note TEXT)"))
    with pytest.raises(StoreError, match="tables named like the run store's \\(runs\\) but no harness_schema_version"):
        RunStore(url).save(runs()[0])
    assert _shape(engine) == {"runs": (["id", "note"], ("id",), ())}  # untouched
    engine.dispose()


def test_other_tables_in_a_shared_database_are_left_alone(postgres):
    url = postgres.new_database()
    engine = _engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE customers (id SERIAL PRIMARY KEY)"))
    RunStore(url).save(runs()[0])
    assert set(_shape(engine)) == TABLES | {"customers"}
    engine.dispose()


def test_a_database_from_a_newer_harness_is_refused(postgres):
    url = postgres.new_database()
    RunStore(url).save(runs()[0])
    engine = _engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '{SCHEMA_VERSION + 1:04d}'"))
    engine.dispose()
    from harness.store import db

    db._forget_engines()  # as a new process would: the schema is checked once per process
    with pytest.raises(StoreError, match="newer than this adapter-harness understands"):
        RunStore(url).list()


def test_an_unreachable_server_is_a_clear_error(postgres):
    dead = postgres.new_database().replace(f":{postgres.port}/", ":1/")
    with pytest.raises(StoreError, match=r"postgresql://harness@127\.0\.0\.1:1/store_\S+: cannot use the PostgreSQL "
                                         r"run store: .*(refused|failed)"):
        RunStore(dead).list()


def test_without_psycopg_the_error_says_what_to_install(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_psycopg(name, *args, **kwargs):
        if name == "psycopg":
            raise ImportError("No module named 'psycopg'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    with pytest.raises(StoreError, match=r"pip install 'adapter-harness\[postgres\]'"):
        RunStore("postgresql://nobody@127.0.0.1:9/none").list()


# ------------------------------------------------------------------ addresses

@pytest.mark.parametrize("spec, expected", [
    ("runs.sqlite3", Location(path=Path("runs.sqlite3"))),
    ("sqlite:///rel/runs.db", Location(path=Path("rel/runs.db"))),
    ("sqlite:////abs/runs.db", Location(path=Path("/abs/runs.db"))),
    ("postgresql://u@h/db", Location(url="postgresql+psycopg://u@h/db")),
    ("postgres://u:secret@h:5433/db", Location(url="postgresql+psycopg://u:secret@h:5433/db")),
])
def test_store_addresses(spec, expected):
    assert locate(spec) == expected


def test_a_password_is_never_printed():
    assert str(locate("postgresql://ci:hunter2@db.internal/runs")) == "postgresql://ci:***@db.internal/runs"


def test_an_unknown_scheme_is_refused():
    with pytest.raises(StoreError, match="unknown run store"):
        locate("mysql://u@h/db")
