"""The migrations' revisions, read without Alembic or SQLAlchemy: what a start compares with the database's
version table to know whether there is migration work (`db.migrate.is_current`, `sunset status`'s quick path).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"

_REVISION = re.compile(r"^(down_revision|revision)\b[^=\n]*=\s*(.+?)\s*$", re.MULTILINE)


def script_heads() -> frozenset[str] | None:
    """The head revisions of db/migrations/versions, read from the files' `revision`/`down_revision` lines
    (what Alembic's ScriptDirectory finds, without importing it); None when a file does not say plainly."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = {match[1]: match[2] for match in _REVISION.finditer(path.read_text(encoding="utf-8"))}
        try:
            revision = ast.literal_eval(found["revision"])
            down = ast.literal_eval(found["down_revision"])
        except (KeyError, ValueError, SyntaxError):
            return None
        if not isinstance(revision, str):
            return None
        revisions.add(revision)
        parents.update([down] if isinstance(down, str) else down or ())
    return frozenset(revisions - parents) or None
