"""The adapter registry (``adapters/<name>/<version>/``) and the integrity of what is in it.

Each accepted adapter version holds the PEFT files plus ``manifest.json``. Publishing is
atomic: the version is assembled in a dot-prefixed temporary folder inside the registry and
appears under its final name only by one ``os.rename``, so an interrupted gate leaves no
half-written version behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.integrity import MANIFEST, WEIGHTS, read_manifest, sha256_file, verify_adapter

__all__ = ["MANIFEST", "WEIGHTS", "read_manifest", "sha256_file", "verify_adapter", "check_name", "versions",
           "latest", "clean_orphans", "publish"]
_VERSION = re.compile(r"^v(\d+)$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise HarnessError(
            f"adapter name {name!r}: use letters, digits, '.', '_' or '-' (no slashes, not starting with '.')"
        )
    return name


def versions(registry: str | Path, name: str) -> list[Path]:
    """Published versions of ``name``, oldest first (v1, v2, ... by number)."""
    folder = Path(registry) / name
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if p.is_dir() and (m := _VERSION.match(p.name))]
    return [p for _, p in sorted(found)]


def latest(registry: str | Path, name: str) -> Path | None:
    found = versions(registry, name)
    return found[-1] if found else None


_OWNER = ".publishing-pid"  # inside a publish's temp folder: which process is filling it
_ORPHAN_AGE = 3600.0  # seconds after which a temp folder with no owner file is abandoned


def clean_orphans(registry: Path) -> list[Path]:
    """Remove the temp folders of publishes that were killed (their process is gone): they are
    never visible as adapters, but would otherwise stay forever. Returns what was removed."""
    import time

    removed = []
    for folder in registry.glob(".*.publish-*"):
        try:
            pid = int((folder / _OWNER).read_text())
            os.kill(pid, 0)  # raises if no such process
            continue  # a publish in progress
        except (OSError, ValueError):
            try:
                if not (folder / _OWNER).exists() and time.time() - folder.stat().st_mtime < _ORPHAN_AGE:
                    continue  # just created by a publish that has not written its owner yet
            except OSError:
                continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
        print(f"note: removed {folder}, left by a publish that was interrupted", file=sys.stderr)
    return removed


def publish(adapter_dir: str | Path | None, registry: str | Path, name: str, manifest: dict[str, Any]) -> Path:
    """Copy the adapter and its manifest into the next free ``registry/name/vN``, atomically.

    ``adapter_dir`` None: an adapter behind a server; the version holds its manifest alone."""
    registry = Path(registry)
    check_name(name)
    try:
        registry.mkdir(parents=True, exist_ok=True)
        clean_orphans(registry)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.publish-", dir=registry))
    except PermissionError:
        raise HarnessError(f"the registry {registry} is not writable; fix its permissions or pass --registry DIR") from None
    (tmp / _OWNER).write_text(str(os.getpid()))
    try:
        for item in sorted(Path(adapter_dir).iterdir()) if adapter_dir is not None else []:
            if item.name in (MANIFEST,) or item.name.startswith("."):
                continue  # a previous manifest is replaced by the new one
            if item.is_dir():
                shutil.copytree(item, tmp / item.name)
            else:
                shutil.copy2(item, tmp / item.name)
        if adapter_dir is not None and sha256_file(tmp / WEIGHTS) != manifest["adapter"]["weights_sha256"]:
            raise HarnessError(f"adapter {adapter_dir}: the weights changed while the gate was running; run it again")
        tmp.chmod(0o755)  # mkdtemp makes it private; a published adapter is an ordinary readable folder
        (tmp / _OWNER).unlink()
        (registry / name).mkdir(exist_ok=True)
        while True:  # another gate may publish the same name concurrently: take the next free number
            last = latest(registry, name)
            number = int(last.name[1:]) + 1 if last else 1
            target = registry / name / f"v{number}"
            doc = {**manifest, "version": f"v{number}"}
            (tmp / MANIFEST).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            try:
                os.rename(tmp, target)  # the one step that makes the version visible
            except OSError:
                if target.exists():
                    continue
                raise
            return target
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
