"""Which checkout the ragft servers run: ``--ragft-src DIR`` puts DIR first on their PYTHONPATH.

The venv's editable install of ragft is a meta-path finder appended after the path finder, so a
package on PYTHONPATH wins over it; ``check_ragft_imports`` makes sure, with the same
interpreter, before anything is measured. The ``ragft`` console script is ``from bot.cli import
main``, so it imports from the same place.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RAGFT_SRC = ROOT
"""The checkout the ragft servers import bot/, handlers/ and storage/ from."""
RAGFT_PACKAGES = ("bot", "handlers", "storage")


def set_ragft_src(path: Path) -> None:
    """Run the ragft servers (and the sweep) from another checkout, e.g. an older commit made
    with ``git worktree add /tmp/before <rev>``: it goes first on their PYTHONPATH."""
    global RAGFT_SRC
    path = path.resolve()
    missing = [p for p in RAGFT_PACKAGES if not (path / p / "__init__.py").exists()]
    if missing:
        raise SystemExit(f"--ragft-src {path}: no {', '.join(missing)} package there")
    RAGFT_SRC = path


def ragft_imports(env: dict[str, str] | None = None) -> dict[str, str]:
    """Where a ragft server process imports its packages from: the same interpreter, env and
    kind of working directory (an empty one) as ``ragft_server``."""
    env = env or {**os.environ, "PYTHONPATH": str(RAGFT_SRC)}
    code = "import importlib, json; print(json.dumps({n: importlib.import_module(n).__file__ "
    code += f"for n in {RAGFT_PACKAGES!r}}}))"
    with tempfile.TemporaryDirectory() as cwd:
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True
        )
    if done.returncode != 0:
        raise RuntimeError(f"can't import ragft: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def check_ragft_imports() -> dict[str, str]:
    """Fail unless every ragft package a server imports comes from ``RAGFT_SRC``."""
    found = ragft_imports()
    wrong = {n: f for n, f in found.items() if not Path(f).resolve().is_relative_to(RAGFT_SRC)}
    if wrong:
        raise RuntimeError(f"ragft servers would not import from {RAGFT_SRC}: {wrong}")
    return found


def source_info(path: Path) -> str:
    """``<dir> at <short rev> (<subject>)``, and whether bot/handlers/storage have local edits."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    rev = git("rev-parse", "--short=10", "HEAD")
    if not rev:
        return f"`{path}` (not a git checkout)"
    subject = git("log", "-1", "--format=%s")
    dirty = git("status", "--porcelain", "--", *RAGFT_PACKAGES)
    edits = ", **with uncommitted changes** in bot/handlers/storage" if dirty else ""
    return f"`{path}` at `{rev}` ({subject}){edits}"
