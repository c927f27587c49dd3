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
