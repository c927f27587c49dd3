"""Labs and their parents: a lab with every lab below it (`--lab google` takes in Google DeepMind)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session, col, select

from db.models import Lab


@dataclass(frozen=True)
class LabFamily:
    """A lab and the labs below it (children, their children …), each as (slug, name), by name."""

    slug: str
    name: str
    children: tuple[tuple[str, str], ...] = ()

    @property
    def slugs(self) -> frozenset[str]:
        """The lab's slug and every descendant's: what a filter by this lab keeps."""
        return frozenset((self.slug, *(slug for slug, _ in self.children)))


def lab_parents(session: Session) -> dict[str, str]:
    """Each lab that names a parent, mapped to the parent's slug."""
    rows = session.exec(select(Lab.slug, Lab.parent_slug).where(col(Lab.parent_slug).is_not(None))).all()
    return {slug: parent for slug, parent in rows if parent}


def lab_and_children(session: Session, *, slug: str) -> LabFamily:
    """The lab `slug` with every lab below it, however deep (a loop in the data is followed once)."""
    parents = lab_parents(session)
    below: set[str] = set()
    frontier = {slug}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - below - {slug}
        below |= frontier
    names = dict(session.exec(select(Lab.slug, Lab.name).where(col(Lab.slug).in_([slug, *below]))).all())
    children = tuple(sorted(((child, names[child]) for child in below if child in names), key=lambda pair: pair[1]))
    return LabFamily(slug=slug, name=names.get(slug, slug), children=children)


def lab_and_parents(parents: Mapping[str, str], slug: str) -> tuple[str, ...]:
    """The lab `slug` and the labs above it, nearest first (a loop in the data is followed once): the labs
    whose followers want news of this lab's models."""
    line = [slug]
    while (parent := parents.get(line[-1])) is not None and parent not in line:
        line.append(parent)
    return tuple(line)
