"""The adapter registry (``adapters/<name>/<version>/``) and the integrity of what is in it.

Each accepted adapter version holds the PEFT files plus ``manifest.json``. Publishing is
atomic: the version is assembled in a dot-prefixed temporary folder inside the registry and
appears under its final name only by one ``os.rename``, so an interrupted gate leaves no
half-written version behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

MANIFEST = "manifest.json"
WEIGHTS = "adapter_model.safetensors"
_VERSION = re.compile(r"^v(\d+)$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(adapter_dir: str | Path) -> dict[str, Any] | None:
    """The adapter's manifest, None if it has none; a broken one is an error."""
    path = Path(adapter_dir) / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise HarnessError(f"{path}: unreadable manifest ({exc}); re-run the gate to publish it again") from None
    if not isinstance(data, dict):
        raise HarnessError(f"{path}: a manifest is a JSON object")
    return data


def verify_adapter(adapter_dir: str | Path, base_sha256: str | None = None) -> dict[str, Any] | None:
    """Refuse an adapter whose weights differ from its manifest, or that was trained on another base.

    ``base_sha256`` is the weights hash of the base model about to be loaded (None: not checked).
    The base recorded in ``manifest.json`` (or, for a freshly trained adapter without one, in
    ``training.json``) must match it. Returns the manifest (None when there is none).
    """
    adapter_dir = Path(adapter_dir)
    manifest = read_manifest(adapter_dir)
    recorded_base = None
    if manifest is not None:
        expected = (manifest.get("adapter") or {}).get("weights_sha256")
        weights = adapter_dir / WEIGHTS
        if not weights.is_file():
            raise HarnessError(f"adapter {adapter_dir}: {WEIGHTS} is missing although {MANIFEST} lists it")
        if not expected:
            raise HarnessError(f"{adapter_dir / MANIFEST}: no adapter.weights_sha256; the manifest is incomplete")
        actual = sha256_file(weights)
        if actual != expected:
            raise HarnessError(
                f"adapter {adapter_dir}: {WEIGHTS} does not match its manifest (sha256 {actual[:12]}… "
                f"!= {expected[:12]}…): the weights were modified or corrupted after the gate accepted them; "
                "refusing to load"
            )
        recorded_base = (manifest.get("base_model") or {}).get("weights_sha256")
    else:
        recorded_base = _training_base_sha(adapter_dir)
    if base_sha256 and recorded_base and recorded_base != base_sha256:
        base_id = ((manifest or {}).get("base_model") or {}).get("id") or "another model"
        raise HarnessError(
            f"adapter {adapter_dir} was trained on another base model ({base_id}, weights sha256 "
            f"{recorded_base[:12]}…) than the one being loaded (sha256 {base_sha256[:12]}…); "
            "load it with the base model it was trained on"
        )
    return manifest


def _training_base_sha(adapter_dir: Path) -> str | None:
    path = adapter_dir / "training.json"
    if not path.is_file():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return (info.get("base_model") or {}).get("weights_sha256")
    except (OSError, ValueError, AttributeError):
        return None


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


def publish(adapter_dir: str | Path, registry: str | Path, name: str, manifest: dict[str, Any]) -> Path:
    """Copy the adapter and its manifest into the next free ``registry/name/vN``, atomically."""
    adapter_dir, registry = Path(adapter_dir), Path(registry)
    check_name(name)
    try:
        registry.mkdir(parents=True, exist_ok=True)
        clean_orphans(registry)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.publish-", dir=registry))
    except PermissionError:
        raise HarnessError(f"the registry {registry} is not writable; fix its permissions or pass --registry DIR") from None
    (tmp / _OWNER).write_text(str(os.getpid()))
    try:
        for item in sorted(adapter_dir.iterdir()):
            if item.name in (MANIFEST,) or item.name.startswith("."):
                continue  # a previous manifest is replaced by the new one
            if item.is_dir():
                shutil.copytree(item, tmp / item.name)
            else:
                shutil.copy2(item, tmp / item.name)
        if sha256_file(tmp / WEIGHTS) != manifest["adapter"]["weights_sha256"]:
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
