"""The run store: every evaluation run, saved whole, so reports never need a model again."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.results import RunResult
from harness.store.codec import insert_run, read_run
from harness.store.db import connect, default_path, transaction

_LATEST = re.compile(r"^latest(?:~(\d+))?$")


@dataclass(frozen=True)
class RunInfo:
    """One stored run as ``harness runs`` lists it, plus what a report's provenance shows."""

    id: int
    created_at: str
    model: str
    adapter: str | None
    verdict: str
    suites: tuple[str, ...]  # suite names, in run order
    seconds: float
    harness_version: str
    baseline_run: int | None = None
    versions: dict[str, str] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    suite_sha256: dict[str, str | None] = field(default_factory=dict)  # by suite path
    generation: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # by suite path

    def label(self) -> str:
        return self.model if self.adapter is None else f"{self.model} + {self.adapter}"


class RunStore:
    """A SQLite file of runs. Cheap to construct: every call opens (and closes) its own connection."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path).expanduser() if path is not None else default_path()

    def save(self, run: RunResult, *, baseline_run: int | None = None,
             provenance: dict[str, Any] | None = None) -> int:
        """Store ``run`` in one transaction and return its id.

        ``baseline_run`` links the stored run of the baseline it was compared with;
        ``provenance`` is the adapter's manifest (recipe, data hashes), stored as JSON.
        """
        created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        try:
            json.dumps(provenance or {})
        except (TypeError, ValueError) as exc:
            raise HarnessError(f"run provenance must be JSON data: {exc}") from None
        with connect(self.path, create=True) as conn, transaction(conn):
            if baseline_run is not None and not conn.execute("SELECT 1 FROM runs WHERE id = ?", (baseline_run,)).fetchone():
                raise HarnessError(f"{self.path}: baseline run {baseline_run} is not in the store")
            return insert_run(conn, run, created_at=created, baseline_run=baseline_run, provenance=provenance or {})

    def resolve(self, ref: str | int) -> int:
        """A run id from '12', 12, 'latest' (the newest run) or 'latest~N' (N runs before it)."""
        text = str(ref).strip()
        with connect(self.path, create=False) as conn:
            if text.isdigit():
                if conn.execute("SELECT 1 FROM runs WHERE id = ?", (int(text),)).fetchone():
                    return int(text)
                raise HarnessError(f"{self.path}: no run {text}; {self._recent(conn)}")
            match = _LATEST.match(text)
            if not match:
                raise HarnessError(f"run '{text}' is not a run id: use a number from 'harness runs', 'latest' or 'latest~N'")
            back = int(match.group(1) or 0)
            row = conn.execute("SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?", (back,)).fetchone()
            if row is None:
                count = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
                raise HarnessError(f"{self.path}: '{text}' does not exist: the store holds {count} run(s)")
            return row[0]

    def load(self, ref: str | int) -> RunResult:
        """The stored run, rebuilt exactly (``load(save(r)).to_dict() == r.to_dict()``)."""
        run_id = self.resolve(ref)
        with connect(self.path, create=False) as conn:
            run = read_run(conn, run_id)
        if run is None:  # deleted between resolve and read
            raise HarnessError(f"{self.path}: run {run_id} disappeared while it was being read")
        run.stored_id = run_id
        return run

    def info(self, ref: str | int) -> RunInfo:
        run_id = self.resolve(ref)
        found = self._infos("WHERE r.id = ?", (run_id,))
        if not found:
            raise HarnessError(f"{self.path}: run {run_id} disappeared while it was being read")
        return found[0]

    def list(self, limit: int | None = None) -> list[RunInfo]:
        """Stored runs, newest first (an absent store file lists nothing)."""
        if not self.path.exists():
            return []
        return self._infos("ORDER BY r.id DESC LIMIT ?", (-1 if limit is None else limit,))

    def _infos(self, tail: str, args: tuple[Any, ...]) -> list[RunInfo]:
        with connect(self.path, create=False) as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute(f"SELECT * FROM runs r {tail}", args).fetchall()
            suites: dict[int, list[sqlite3.Row]] = {r["id"]: [] for r in rows}
            if rows:
                marks = ",".join("?" * len(rows))
                for s in conn.execute(f"SELECT run_id, path, name, sha256, generation FROM suites "
                                      f"WHERE run_id IN ({marks}) ORDER BY run_id, position", list(suites)):
                    suites[s["run_id"]].append(s)
        return [
            RunInfo(
                id=r["id"], created_at=r["created_at"], model=r["model"], adapter=r["adapter"], verdict=r["verdict"],
                suites=tuple(s["name"] for s in suites[r["id"]]), seconds=r["seconds"],
                harness_version=r["harness_version"], baseline_run=r["baseline_run"],
                versions=json.loads(r["versions"]), provenance=json.loads(r["provenance"]),
                suite_sha256={s["path"]: s["sha256"] for s in suites[r["id"]]},
                generation={s["path"]: json.loads(s["generation"]) if s["generation"] else None for s in suites[r["id"]]},
            )
            for r in rows
        ]

    @staticmethod
    def _recent(conn: sqlite3.Connection) -> str:
        ids = [str(r[0]) for r in conn.execute("SELECT id FROM runs ORDER BY id DESC LIMIT 5")]
        return f"recent runs: {', '.join(ids)} (see 'harness runs')" if ids else "the store holds no runs yet"
