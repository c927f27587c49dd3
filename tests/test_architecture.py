"""The dependency direction `bot → trackers → db`, enforced: db imports neither, trackers never bot or discord."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
FORBIDDEN = {
    "db": {"trackers", "bot", "discord"},
    "trackers": {"bot", "discord"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_layers_never_import_higher_ones(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_checker_would_notice_a_violation(tmp_path):
    sample = tmp_path / "bad.py"
    sample.write_text("import discord\nfrom bot.cli.commands import app\n")
    assert imported_packages(sample) >= {"discord", "bot"}


# ── the storage seam: only the stores run SQL ────────────────────────────────────────────────────

SQL_BUILDERS = {
    "select",
    "update",
    "insert",
    "delete",
    "text",
    "func",
    "col",
    "and_",
    "or_",
    "exists",
    "case",
    "tuple_",
}
SESSION_CALLS = {"exec", "execute", "scalar", "scalars", "add", "add_all", "delete", "merge", "get", "flush", "refresh"}
SQL_PACKAGES = {"sqlmodel", "sqlalchemy"}
SQL_HOMES = ("db/", "trackers/store/", "bot/store/")
# Modules that still run SQL of their own. The list only shrinks: each entry moves its SQL into a store.
NOT_YET_MOVED: set[str] = set()


def runs_sql(path: Path) -> bool:
    """Whether a module builds SQL statements or talks to a session or connection itself."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in SQL_PACKAGES:
            imported = {alias.name for alias in node.names}
            if imported & SQL_BUILDERS:
                return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SESSION_CALLS:
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
            if name.lower().endswith(("session", "connection", "conn")):
                return True
    return False


def test_only_the_stores_run_sql():
    running = {
        str(path.relative_to(ROOT))
        for package in ("bot", "trackers")
        for path in (ROOT / package).rglob("*.py")
        if not str(path.relative_to(ROOT)).startswith(SQL_HOMES) and runs_sql(path)
    }
    assert running <= NOT_YET_MOVED, f"new SQL outside a store: {sorted(running - NOT_YET_MOVED)}"
    assert not NOT_YET_MOVED - running, f"moved already, drop from NOT_YET_MOVED: {sorted(NOT_YET_MOVED - running)}"


def test_the_sql_checker_would_notice_sql(tmp_path):
    built = tmp_path / "built.py"
    built.write_text("from sqlmodel import select\n")
    called = tmp_path / "called.py"
    called.write_text("def f(session):\n    session.exec(1)\n")
    clean = tmp_path / "clean.py"
    clean.write_text("from trackers.store.models import visible\n")
    assert runs_sql(built) and runs_sql(called) and not runs_sql(clean)
