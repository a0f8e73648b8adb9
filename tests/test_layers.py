"""The layering rules, enforced by reading every module's imports (README: Layout)."""

from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "storage")
MAX_LINES = 400
SLACK = ("slack_bolt", "slack_sdk")
STDLIB = sys.stdlib_module_names


def modules() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def dotted(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def imports(path: Path, *, top_level_only: bool = False) -> list[str]:
    """Absolute module names imported by ``path`` (``from a import b`` counts a and a.b)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    if top_level_only:  # also what sits under `if TYPE_CHECKING:` at module level
        nodes = [
            n
            for node in nodes
            for n in ast.walk(node)
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        ]
    found: list[str] = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def root(name: str) -> str:
    return name.split(".")[0]


def under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(prefix: str, allowed) -> list[str]:
    bad = []
    for path in modules():
        if not under(dotted(path), prefix):
            continue
        for name in imports(path):
            if not allowed(name):
                bad.append(f"{dotted(path)} imports {name}")
    return bad


def test_the_domain_imports_only_the_standard_library_pydantic_and_itself():
    def allowed(name: str) -> bool:
        return root(name) in STDLIB or root(name) == "pydantic" or under(name, "bot.domain")

    assert violations("bot.domain", allowed) == []


def test_storage_imports_nothing_above_it_but_the_domain():
    def allowed(name: str) -> bool:
        if under(name, "handlers"):
            return False
        return not under(name, "bot") or under(name, "bot.domain")

    assert violations("storage", allowed) == []


@pytest.mark.parametrize("layer", ["bot.services", "bot.llm", "bot.reminders"])
def test_services_llm_and_reminders_know_nothing_of_slack(layer: str):
    def allowed(name: str) -> bool:
        return root(name) not in SLACK and not under(name, "handlers")

    assert violations(layer, allowed) == []


def test_the_only_upward_import_is_the_clis_lazy_one():
    bad = []
    for path in modules():
        name = dotted(path)
        if not under(name, "bot"):
            continue
        eager = [n for n in imports(path, top_level_only=True) if under(n, "handlers")]
        lazy = [n for n in imports(path) if under(n, "handlers")]
        if eager or (lazy and name != "bot.cli"):
            bad.append(f"{name} imports {eager or lazy}")
    assert bad == []


def test_no_two_modules_share_a_name():
    names = Counter(p.name for p in modules() if p.name not in ("__init__.py", "models.py"))
    assert [name for name, count in names.items() if count > 1] == []


def test_no_module_is_over_the_size_limit():
    long = {dotted(p): n for p in modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_listeners_are_top_level_functions_not_closures_in_register():
    bad = []
    for path in (ROOT / "handlers" / "listeners").glob("*.py"):
        if path.name == "__init__.py":
            continue
        tree = ast.parse(path.read_text())
        registers = [
            n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "register"
        ]
        if len(registers) != 1:
            bad.append(f"{path.name}: no register(app, runtime)")
            continue
        nested = [
            n.name
            for n in ast.walk(registers[0])
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            and n is not registers[0]
            and not isinstance(n, ast.Lambda)
        ]
        if nested:
            bad.append(f"{path.name}: {nested} defined inside register()")
    assert bad == []


def test_message_keys_and_reminder_kinds_are_enums():
    from bot.domain.lifecycle import ReminderKind
    from bot.domain.questions import QUESTIONS, MessageKey

    assert {k.value for k in MessageKey} == {"root", "verdict", *(q.key.value for q in QUESTIONS)}
    literals = {*(k.value for k in MessageKey), *(k.value for k in ReminderKind)}
    bad = []
    for path in modules():
        if under(dotted(path), "bot.domain"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            # a bare key used to index, or passed in a list of keys
            if isinstance(node, ast.Subscript | ast.List | ast.Compare):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Constant) and inner.value in literals:
                        bad.append(f"{dotted(path)}:{inner.lineno} {inner.value!r}")
    assert bad == []
