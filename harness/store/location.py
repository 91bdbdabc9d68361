"""Where the run store is: an SQLite file (the default) or a PostgreSQL database a team shares.

``--store`` and ``$ADAPTER_HARNESS_STORE`` take either a file path or a URL:

* ``runs.sqlite3``, ``~/ci/runs.sqlite3``, ``sqlite:///abs/path.sqlite3`` — an SQLite file;
* ``postgresql://user@host:5432/db`` (also ``postgres://`` and ``postgresql+psycopg://``) — a
  PostgreSQL database, reached through psycopg 3 (``pip install 'adapter-harness[postgres]'``).

``ADAPTER_HARNESS_STORE=off`` disables automatic saving (and the caches kept in the store).
``--store`` on the command line chooses the store for that command (:func:`using`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError

ENV = "ADAPTER_HARNESS_STORE"
_SERVER_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
_OFF = ("off", "none", "0", "false")
# A store chosen for this call (``--store`` on the command line), ahead of the environment variable.
_chosen: ContextVar[str | None] = ContextVar("adapter_harness_store", default=None)


@contextmanager
def using(spec: str | Path | None) -> Iterator[None]:
    """Within the block, the default store is ``spec`` (None: leave it to the environment)."""
    token = _chosen.set(None if spec is None else str(spec))
    try:
        yield
    finally:
        _chosen.reset(token)


def _default_spec() -> str:
    chosen = _chosen.get()
    return chosen if chosen is not None else os.environ.get(ENV, "").strip()


class StoreError(HarnessError):
    """The run store cannot be used (damaged, foreign, too new, locked, unreachable)."""


@dataclass(frozen=True)
class Location:
    """A resolved store: an SQLite ``path``, or a server ``url`` (SQLAlchemy form, psycopg 3 driver)."""

    path: Path | None = None
    url: str | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.path is not None

    def sqlalchemy_url(self) -> str:
        return f"sqlite:///{self.path}" if self.path is not None else str(self.url)

    def exists(self) -> bool:
        """False only for an SQLite file not written yet (a server database is always there to ask)."""
        return self.path.exists() if self.path is not None else True

    def __str__(self) -> str:  # for messages: the path, or the URL with any password hidden
        if self.path is not None:
            return str(self.path)
        from sqlalchemy.engine import make_url

        shown = make_url(self.url).render_as_string(hide_password=True)
        return shown.replace("postgresql+psycopg://", "postgresql://", 1)


def locate(spec: str | Path | Location | None = None) -> Location:
    """The store ``spec`` names (a path or URL), else ``$ADAPTER_HARNESS_STORE``, else the user data file."""
    if isinstance(spec, Location):
        return spec
    if spec is None:
        spec = _default_spec() or None
        if spec is None:
            from platformdirs import user_data_dir

            return Location(path=Path(user_data_dir("adapter-harness", appauthor=False)) / "runs.sqlite3")
    text = str(spec).strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if not scheme:
        return Location(path=Path(text).expanduser())
    if scheme == "sqlite":
        path = text.split("://", 1)[1]
        if not path.startswith("/") or path == "/":
            raise StoreError(f"{text}: an SQLite store URL names a file, as sqlite:///relative.db or sqlite:////abs.db")
        return Location(path=Path(path[1:]).expanduser())
    if scheme in _SERVER_SCHEMES:
        rest = text.split("://", 1)[1]
        return Location(url=f"postgresql+psycopg://{rest}")  # psycopg 3, not SQLAlchemy's psycopg2 default
    raise StoreError(f"{text}: unknown run store; give a file path, sqlite:///FILE or postgresql://user@host/db")


def default_path() -> Path:
    """The default store's file: ``--store`` / ``$ADAPTER_HARNESS_STORE``, else the user data directory's."""
    found = locate(None)
    if found.path is None:
        raise StoreError(f"{ENV} names a database server ({found}), not a file")
    return found.path


def store_disabled() -> bool:
    """``ADAPTER_HARNESS_STORE=off`` (or ``--store off``) turns automatic saving off (e.g. throw-away runs)."""
    return _default_spec().lower() in _OFF
