"""Writing a rendered board to a folder: only files whose bytes changed, and removing only what it wrote before."""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

MANIFEST = ".sunset-board.json"  # the files the last build wrote: only those are ever removed


@dataclass(frozen=True)
class WriteReport:
    """What a write did."""

    written: int
    unchanged: int
    removed: int


def write_site(files: Mapping[str, bytes], folder: Path, *, known: Collection[str] = ()) -> WriteReport:
    """Write `files` under `folder` (each atomically, only when its bytes differ); drop files of older builds.

    `known` names files this process wrote with the same bytes before: they are not read back to compare.
    """
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / MANIFEST
    try:
        previous = set(json.loads(manifest.read_text(encoding="utf-8")))
    except (FileNotFoundError, ValueError):
        previous = set()
    written = unchanged = removed = 0
    for relative, content in files.items():
        if relative in known:
            unchanged += 1
            continue
        target = folder / relative
        try:
            if target.read_bytes() == content:
                unchanged += 1
                continue
        except FileNotFoundError:
            target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_bytes(content)
        os.replace(temporary, target)  # readers of a live folder see the old file or the new one, never half
        written += 1
    for relative in sorted(previous - set(files)):
        target = folder / relative
        if target.is_file() and folder.resolve() in target.resolve().parents:
            target.unlink()
            removed += 1
    manifest.write_text(json.dumps(sorted(files), indent=0) + "\n", encoding="utf-8")
    return WriteReport(written, unchanged, removed)
