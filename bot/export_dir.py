"""Writing ADR files into a directory for ``ragft export``: one file per decision, named
``NNNN-kebab-title.md`` by its id, updated in place. A file carries ragft's marker on its last
line; only such files are replaced or removed (a renamed decision's old file), never a
team's own ADRs."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

_MARKER = re.compile(r"<!-- ragft:decision (\d+) -->\s*\Z")


class ExportDirError(Exception):
    """The directory can't be used; the message is one line."""


@dataclass(frozen=True)
class AdrFile:
    decision_id: int
    name: str
    content: str


@dataclass
class WriteReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def prepare(directory: str) -> Path:
    path = Path(directory)
    if path.exists() and not path.is_dir():
        raise ExportDirError(f"{directory}: not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportDirError(
            f"{directory}: cannot create the directory ({exc.strerror or exc})"
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ExportDirError(f"{directory}: not writable")
    return path


def _owner(path: Path) -> int | None:
    """The decision id of a file ragft wrote, else None."""
    try:
        tail = path.read_text(encoding="utf-8", errors="replace")[-200:]
    except OSError:
        return None
    match = _MARKER.search(tail)
    return int(match.group(1)) if match else None


def _write(path: Path, content: str) -> None:
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".ragft-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_files(directory: Path, files: Iterable[AdrFile]) -> WriteReport:
    report = WriteReport()
    ours: dict[int, list[Path]] = {}
    for existing in sorted(directory.glob("*.md")):
        owner = _owner(existing)
        if owner is not None:
            ours.setdefault(owner, []).append(existing)
    for item in files:
        target = directory / item.name
        if target.exists() and _owner(target) != item.decision_id:
            report.skipped.append(item.name)
            continue
        try:
            same = target.exists() and target.read_text(encoding="utf-8") == item.content
            if same:
                report.unchanged.append(item.name)
            else:
                _write(target, item.content)
                report.written.append(item.name)
            for old in ours.get(item.decision_id, []):
                if old.name != item.name:
                    old.unlink(missing_ok=True)
                    report.removed.append(old.name)
        except OSError as exc:
            raise ExportDirError(f"{target}: cannot write ({exc.strerror or exc})") from None
    return report
