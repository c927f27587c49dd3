"""Builders for test records and small catalog files written by the tests themselves."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from textwrap import dedent

from sqlmodel import Session, select

from db.models import Lab, Model, OpennessChange
from trackers.records import (
    Access,
    Change,
    Licence,
    ModelRecord,
    OpennessState,
    PartialDate,
    TrainingCode,
    TrainingData,
)

APACHE = Licence("Apache License 2.0", "Apache-2.0")
LLAMA2 = Licence("Llama 2 Community License Agreement")
CC_BY_NC = Licence("CC BY-NC 4.0", "CC-BY-NC-4.0")


def record(
    released: str | None = "2016-03-09",
    *,
    access: Access = Access.API,
    licence: Licence | None = None,
    code: TrainingCode | None = None,
    data: TrainingData | None = None,
    checkpoints: bool | None = None,
    paper: str | None = None,
    changes: tuple[Change, ...] = (),
    base: ModelRecord | None = None,
    slug: str = "model-x",
) -> ModelRecord:
    """A model record with sensible defaults: a closed API model released 2016-03-09."""
    return ModelRecord(
        slug=slug,
        name=slug.replace("-", " ").title(),
        lab="lab",
        first_release=PartialDate.parse(released) if released else None,
        initial=OpennessState(access, licence, code, data, checkpoints, paper),
        changes=changes,
        base=base,
    )


def change(on: str, kind: str = "weights_released", **fields: object) -> Change:
    """A dated change."""
    return Change(on=date.fromisoformat(on), kind=kind, **fields)  # type: ignore[arg-type]


SMALL_CATALOG = {
    "testlab.toml": dedent(
        """
        [lab]
        slug = "testlab"
        name = "Test Lab"
        url = "https://testlab.example/"
        hf_orgs = ["testlab"]

        [[models]]
        slug = "oldnet"
        name = "OldNet"
        aliases = ["Old Net 2012"]
        released = { date = "2012-09", source = "https://testlab.example/oldnet" }
        access = { value = "hosted", source = "https://testlab.example/oldnet" }

        [models.verified]
        on = "2026-11-20"
        checked = ["weights", "access"]
        sources = ["https://testlab.example/oldnet"]

        [[models]]
        slug = "opened-later"
        name = "Opened Later"
        hf_repos = ["testlab/opened-later"]
        released = { date = "2014-05-01", source = "https://testlab.example/ol" }
        access = { value = "api", source = "https://testlab.example/ol" }
        training_code = { value = "closed", source = "https://testlab.example/ol" }

        [models.verified]
        on = "2026-11-20"
        checked = ["weights", "license", "training_code"]
        sources = ["https://testlab.example/ol", "https://testlab.example/ol-weights"]

        [[models.changes]]
        date = "2020-01-15"
        kind = "weights_released"
        access = "download"
        license = { raw = "Apache License 2.0", spdx = "Apache-2.0" }
        source = "https://testlab.example/ol-weights"

        [[models]]
        slug = "restricted"
        name = "Restricted LM"
        released = { date = "2023-07-18", source = "https://testlab.example/r" }
        access = { value = "gated", source = "https://testlab.example/r" }
        license = { raw = "Llama 2 Community License Agreement", source = "https://testlab.example/r-licence" }
        """
    ),
}


# The `[[sources]]` below are the only ones (the default sources would reach the network).
ONLY_THESE_SOURCES = "[trackers]\nreplace_default_sources = true\n\n"


def write_catalog(directory: Path, files: dict[str, str] | None = None) -> Path:
    """Write catalog files into `directory` and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in (files or SMALL_CATALOG).items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def write_config(directory: Path, database_url: str) -> Path:
    """A config file using `database_url` and only a small catalog of our own (no network sources)."""
    catalog = write_catalog(directory / "catalog")
    path = directory / "config.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\n\n{ONLY_THESE_SOURCES}'
        f'[[sources]]\nname = "catalog"\nkind = "catalog"\npath = "{catalog}"\n'
    )
    return path


def store_records(
    session: Session, records: Iterable[ModelRecord], *, notability: dict[str, str] | None = None
) -> None:
    """Write records as rows (labs, models, their release state and dated changes), as a sync would; commits."""
    labs: dict[str, int] = {row.slug: row.id for row in session.exec(select(Lab)).all() if row.id is not None}
    ids: dict[str, int] = {}
    for record in records:
        if record.lab not in labs:
            lab = Lab(slug=record.lab, name=record.lab.title())
            session.add(lab)
            session.flush()
            labs[record.lab] = lab.id or 0
        base_id = ids.get(record.base.slug) if record.base else None
        criteria = (notability or {}).get(record.slug)
        model = Model(slug=record.slug, name=record.name, lab_id=labs[record.lab], base_id=base_id,
                      first_release=str(record.first_release) if record.first_release else None,
                      notability=criteria, citations=len(criteria or "") * 10 or None)  # fmt: skip
        session.add(model)
        session.flush()
        ids[record.slug] = model.id or 0
        rows = [("release", None, record.initial, None)] + [(c.kind, c.on, c, c.source) for c in record.changes]
        for kind, on, state, url in rows:
            licence = state.licence
            session.add(OpennessChange(
                model_id=model.id or 0, kind=kind, on=on, access=state.access.value if state.access else None,
                licence_raw=licence.raw if licence else None, licence_spdx=licence.spdx if licence else None,
                training_code=state.training_code.value if state.training_code else None,
                training_data=state.training_data.value if state.training_data else None,
                checkpoints=state.checkpoints, paper=state.paper, source_url=url))  # fmt: skip
    session.commit()
