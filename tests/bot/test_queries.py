"""Read-side services over a real database (the catalog of tests/helpers.py plus tracker observations)."""

from sqlmodel import Session, select

from bot.discord.embeds import history_pages
from bot.services.queries import model_history
from db.models import Model, Observation, utcnow
from tests.helpers import write_catalog
from trackers.catalog import catalog_files
from trackers.catalog.sync import sync_catalog
from trackers.sources import DATASET, epoch


def test_a_dataset_claim_carries_its_attribution_wherever_the_history_is_shown(session, tmp_path):
    sync_catalog(session, catalog_files(write_catalog(tmp_path / "catalog")))
    oldnet = session.exec(select(Model).where(Model.slug == "oldnet")).one()
    session.add(
        Observation(
            model_id=oldnet.id,
            origin="epoch",
            rank=DATASET,
            fact="released",
            value="2012-09-14",
            url="https://epoch.example/data/notable_ai_models.csv",
            note=epoch.ATTRIBUTION,
            seen_at=utcnow(),
        )
    )
    session.commit()
    with Session(session.get_bind()) as fresh:
        history = model_history(fresh, "OldNet")
    line = next(entry.text for entry in history.observations if "(epoch)" in entry.text)
    assert line == f"released: 2012-09-14 (epoch) — {epoch.ATTRIBUTION}"
    shown = " ".join(page.description or "" for page in history_pages(history))
    assert "Epoch AI, 'Notable AI Models', CC-BY 4.0" in shown
