"""The run store: every evaluation run, saved whole, so reports never need a model again."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from harness.errors import HarnessError
from harness.results import RunResult
from harness.store import schema as t
from harness.store.codec import insert_run, read_run
from harness.store.db import connect
from harness.store.location import Location, locate

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
    """The runs in an SQLite file or a PostgreSQL database. Cheap to construct: every call opens its own
    transaction (and, on SQLite, its own connection)."""

    def __init__(self, path: str | Path | Location | None = None):
        self.location = locate(path)

    @property
    def path(self) -> Path | None:
        """The SQLite file (None for a server store)."""
        return self.location.path

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
        with connect(self.location, create=True, write=True) as conn:
            if baseline_run is not None and not self._exists(conn, baseline_run):
                raise HarnessError(f"{self.location}: baseline run {baseline_run} is not in the store")
            return insert_run(conn, run, created_at=created, baseline_run=baseline_run, provenance=provenance or {})

    def resolve(self, ref: str | int) -> int:
        """A run id from '12', 12, 'latest' (the newest run) or 'latest~N' (N runs before it)."""
        text = str(ref).strip()
        with connect(self.location, create=False) as conn:
            if text.isdigit():
                if self._exists(conn, int(text)):
                    return int(text)
                raise HarnessError(f"{self.location}: no run {text}; {self._recent(conn)}")
            match = _LATEST.match(text)
            if not match:
                raise HarnessError(f"run '{text}' is not a run id: use a number from 'harness runs', 'latest' or 'latest~N'")
            back = int(match.group(1) or 0)
            found = conn.execute(sa.select(t.runs.c.id).order_by(t.runs.c.id.desc()).limit(1).offset(back)).scalar()
            if found is None:
                count = conn.execute(sa.select(sa.func.count()).select_from(t.runs)).scalar()
                raise HarnessError(f"{self.location}: '{text}' does not exist: the store holds {count} run(s)")
            return found

    def load(self, ref: str | int) -> RunResult:
        """The stored run, rebuilt exactly (``load(save(r)).to_dict() == r.to_dict()``)."""
        run_id = self.resolve(ref)
        with connect(self.location, create=False) as conn:
            run = read_run(conn, run_id)
        if run is None:  # deleted between resolve and read
            raise HarnessError(f"{self.location}: run {run_id} disappeared while it was being read")
        run.stored_id = run_id
        return run

    def info(self, ref: str | int) -> RunInfo:
        run_id = self.resolve(ref)
        found = self._infos(t.runs.c.id == run_id, None)
        if not found:
            raise HarnessError(f"{self.location}: run {run_id} disappeared while it was being read")
        return found[0]

    def list(self, limit: int | None = None) -> list[RunInfo]:
        """Stored runs, newest first (an absent store file lists nothing)."""
        if not self.location.exists():
            return []
        return self._infos(None, limit)

    def _infos(self, where: Any, limit: int | None) -> list[RunInfo]:
        query = sa.select(t.runs).order_by(t.runs.c.id.desc()).limit(limit)
        if where is not None:
            query = query.where(where)
        with connect(self.location, create=False) as conn:
            rows = conn.execute(query).mappings().all()
            suites: dict[int, list[Any]] = {r["id"]: [] for r in rows}
            if rows:
                s = t.suites.c
                for row in conn.execute(sa.select(s.run_id, s.path, s.name, s.sha256, s.generation)
                                        .where(s.run_id.in_(list(suites))).order_by(s.run_id, s.position)).mappings():
                    suites[row["run_id"]].append(row)
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
    def _exists(conn: sa.Connection, run_id: int) -> bool:
        return conn.execute(sa.select(t.runs.c.id).where(t.runs.c.id == run_id)).first() is not None

    @staticmethod
    def _recent(conn: sa.Connection) -> str:
        ids = [str(i) for i in conn.execute(sa.select(t.runs.c.id).order_by(t.runs.c.id.desc()).limit(5)).scalars()]
        return f"recent runs: {', '.join(ids)} (see 'harness runs')" if ids else "the store holds no runs yet"
