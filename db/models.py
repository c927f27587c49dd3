"""Every table, in one place. Times are timezone-aware UTC; dates known to a precision are text (`2019`, `2019-02`)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
)
from sqlmodel import Field, SQLModel

# Named constraints let later migrations alter them on SQLite too (batch mode needs the names).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


def _snowflake(*, primary_key: bool = False, index: bool = False) -> Column[int]:
    """Discord ids are 64-bit: PostgreSQL's INTEGER would overflow."""
    return Column(BigInteger, primary_key=primary_key, autoincrement=False, index=index, nullable=primary_key is False)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on every backend (SQLite stores no offset and returns naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse a naive time; store an aware one as UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: every stored time must be timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Read a stored time back as aware UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc_column(*, nullable: bool = True, index: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class Lab(SQLModel, table=True):
    """An organisation that releases models."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, max_length=80)
    name: str = Field(max_length=120)
    url: str | None = Field(default=None, max_length=500)
    hf_orgs: str = Field(default="", max_length=500, description="comma-separated official Hub organisations")
    parent_slug: str | None = Field(default=None, max_length=80, index=True, description="the lab this one is part of")
    parent_source: str | None = Field(default=None, max_length=1000, description="the URL that states it")


class Model(SQLModel, table=True):
    """A released model or checkpoint family. Its openness lives in OpennessChange rows.

    The `assessed_on` … `sort_name` columns are its stored assessment (written by every evaluation, read by
    the list and count queries): its level, valid from `level_since` until `level_until`, its status and
    sunset under the default policy, and the facts any other policy's status is computed from in SQL.
    """

    __table_args__ = (
        Index("ix_model_state_status_sunset", "state", "status", "sunset_on"),
        Index("ix_model_state_release", "state", "release_latest"),
        Index("ix_model_state_notable", "state", "notable_order", "release_latest", "sort_name"),
        Index(
            "ix_model_tally",
            "state",
            "level",
            "release_latest",
            "release_earliest",
            "level_since",
            "level_until",
            "lab_id",
            "updated_at",
        ),
        Index("ix_model_state_level_since", "state", "level_since"),
        Index("ix_model_state_level_until", "state", "level_until"),
        Index("ix_model_state_updated", "state", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, max_length=80)
    name: str = Field(max_length=200)
    lab_id: int = Field(foreign_key="lab.id", index=True)
    base_id: int | None = Field(default=None, foreign_key="model.id", index=True)
    summary: str | None = Field(default=None, max_length=300)
    first_release: str | None = Field(default=None, max_length=10, description="YYYY, YYYY-MM or YYYY-MM-DD")
    first_release_url: str | None = Field(default=None, max_length=1000)
    state: str = Field(
        default="confirmed", max_length=16, index=True, description="confirmed|unconfirmed|rejected|withdrawn"
    )
    origin: str = Field(
        default="catalog", max_length=120, description="who created it: catalog, a source name, or moderator"
    )
    notability: str | None = Field(default=None, max_length=200, description="Epoch AI's criteria, comma-separated")
    citations: int | None = Field(default=None, description="citations of its paper in Epoch AI's snapshot")
    verified_on: date | None = Field(default=None, description="when its history was last checked against sources")
    verified_sources: str | None = Field(default=None, sa_column=Column(Text), description="one URL a line")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))
    assessed_on: date | None = Field(default=None, description="the day its assessment was last written; null = never")
    level: str | None = Field(default=None, max_length=2, description="L0–L4 on assessed_on")
    level_since: date | None = Field(default=None, description="its level holds from this day (null: always)")
    level_until: date | None = Field(default=None, description="… until the day before this one (null: for good)")
    status: str | None = Field(default=None, max_length=16, description="under the default policy, on assessed_on")
    sunset_on: date | None = Field(default=None, description="its sunset under the default policy")
    release_earliest: date | None = Field(default=None, description="the first day first_release could mean")
    release_latest: date | None = Field(default=None, description="the last day first_release could mean")
    notable_order: int = Field(
        default=0,
        sa_column=Column(Integer, nullable=False, server_default="0"),
        description="minus Epoch's notability rank: lists sort by it",
    )
    sort_name: str | None = Field(default=None, max_length=200, description="the name casefolded, for ordering")


class Alias(SQLModel, table=True):
    """A name a model is known by; `key` is the normalised form used for exact lookups."""

    __table_args__ = (UniqueConstraint("key", "model_id"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="model.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    key: str = Field(max_length=200, index=True)
    kind: str = Field(default="alias", max_length=16, description="name|slug|alias|hf_repo")
    origin: str = Field(default="catalog", max_length=120)


def claim_digest(fact: str, value: str, url: str) -> str:
    """What makes an observation unique, in 64 characters: PostgreSQL caps an index row at 2,704 bytes,
    which a long value and URL in the index itself would exceed."""
    return hashlib.sha256("\x1f".join((fact, value, url)).encode()).hexdigest()


class Observation(SQLModel, table=True):
    """One sourced claim about a model: which fact, what value, where it was read and when."""

    __table_args__ = (UniqueConstraint("model_id", "origin", "claim"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="model.id", index=True, ondelete="CASCADE")
    origin: str = Field(max_length=120, description="catalog, a source name, or moderator")
    rank: int = Field(
        default=0, description="precedence: higher wins (moderator > catalog > artefacts > announcements > datasets)"
    )
    fact: str = Field(max_length=40)
    value: str = Field(sa_column=Column(Text, nullable=False))
    url: str = Field(max_length=1000)
    note: str | None = Field(default=None, sa_column=Column(Text))
    seen_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))
    claim: str = Field(default="", max_length=64, description="claim_digest(fact, value, url), set on insert")


@event.listens_for(Observation, "before_insert")
def _set_claim(mapper: object, connection: object, target: Observation) -> None:
    target.claim = claim_digest(target.fact, target.value, target.url)


class OpennessChange(SQLModel, table=True):
    """Openness over time: the state at release (`kind='release'`, no date) and each dated change after it."""

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="model.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=32)
    on: date | None = Field(default=None)
    access: str | None = Field(default=None, max_length=16)
    licence_raw: str | None = Field(default=None, max_length=200)
    licence_spdx: str | None = Field(default=None, max_length=80)
    training_code: str | None = Field(default=None, max_length=16)
    training_data: str | None = Field(default=None, max_length=16)
    checkpoints: bool | None = Field(default=None)
    paper: str | None = Field(default=None, max_length=1000)
    source_url: str | None = Field(default=None, max_length=1000)
    note: str | None = Field(default=None, sa_column=Column(Text))
    origin: str = Field(default="catalog", max_length=120)


# Cache validators longer than these are not kept by the trackers (a cut one would never match).
ETAG_MAX = 500
LAST_MODIFIED_MAX = 100


class Source(SQLModel, table=True):
    """One place the trackers read, with its caching validators and health."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=120)
    kind: str = Field(max_length=32)
    url: str | None = Field(default=None, max_length=1000)
    lab: str | None = Field(default=None, max_length=80)
    etag: str | None = Field(default=None, max_length=ETAG_MAX)
    last_modified: str | None = Field(default=None, max_length=LAST_MODIFIED_MAX)
    status: str = Field(default="never", max_length=16, description="ok|not_modified|error|paused|disabled|never")
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    consecutive_failures: int = Field(default=0)
    items_seen: int = Field(default=0)
    last_ok_at: datetime | None = Field(default=None, sa_column=_utc_column())
    last_attempt_at: datetime | None = Field(default=None, sa_column=_utc_column())
    next_due_at: datetime | None = Field(default=None, sa_column=_utc_column())
    claimed_by: str | None = Field(default=None, max_length=80, description="the tracker worker polling it now")
    claimed_until: datetime | None = Field(default=None, sa_column=_utc_column())


class Event(SQLModel, table=True):
    """A change worth telling people, stored once per subject + kind + key."""

    __table_args__ = (UniqueConstraint("subject", "kind", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=200, description="model:<slug> or source:<name>")
    model_id: int | None = Field(default=None, foreign_key="model.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=40, index=True)
    key: str = Field(default="", max_length=120, description="what makes it unique, e.g. the window or lead days")
    occurred_on: date = Field(index=True)
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    announce: bool = Field(
        default=True, description="false for history found at the first evaluation: stored, never sent"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False, index=True))


class Subscription(SQLModel, table=True):
    """Who wants which events: a channel, a user's DMs or the console; all models, a lab or one model."""

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int | None = Field(default=None, sa_column=_snowflake(index=True))
    target: str = Field(max_length=80, description="channel:<id>, user:<id> or console")
    scope: str = Field(default="all", max_length=8, description="all|lab|model")
    scope_value: str | None = Field(default=None, max_length=80)
    kinds: str = Field(default="", max_length=300, description="comma-separated event kinds")
    created_by: int | None = Field(default=None, sa_column=_snowflake())
    paused: bool = Field(default=False)
    pause_reason: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))


class GuildSettings(SQLModel, table=True):
    """Per-Discord-server overrides of the global policy, alerts channel and digest schedule."""

    guild_id: int = Field(sa_column=_snowflake(primary_key=True))
    alerts_channel_id: int | None = Field(default=None, sa_column=_snowflake())
    window_years: int | None = Field(default=None)
    profile: str | None = Field(default=None, max_length=16)
    digest_weekday: int | None = Field(default=None, description="0=Monday … 6=Sunday; null = off")
    digest_hour: int | None = Field(default=None)
    last_digest_at: datetime | None = Field(default=None, sa_column=_utc_column())


class Delivery(SQLModel, table=True):
    """One event sent to one target: the unit of exactly-once (the outbox)."""

    __table_args__ = (UniqueConstraint("event_id", "target"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True, ondelete="CASCADE")
    subscription_id: int | None = Field(default=None, foreign_key="subscription.id", ondelete="SET NULL")
    target: str = Field(max_length=80)
    status: str = Field(default="pending", max_length=16, index=True, description="pending|sending|sent|failed|skipped")
    attempts: int = Field(default=0)
    message_id: str | None = Field(default=None, max_length=40)
    error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))
    last_attempt_at: datetime | None = Field(default=None, sa_column=_utc_column())
    next_attempt_at: datetime | None = Field(default=None, sa_column=_utc_column(), description="after a failure")


class Pledge(SQLModel, table=True):
    """A community member saying "I want this model opened"."""

    __table_args__ = (UniqueConstraint("model_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="model.id", index=True, ondelete="CASCADE")
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    guild_id: int | None = Field(default=None, sa_column=_snowflake())
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))


class Meta(SQLModel, table=True):
    """Small key-value facts about the store itself (e.g. when the last evaluation ran)."""

    key: str = Field(primary_key=True, max_length=80)
    value: str = Field(sa_column=Column(Text, nullable=False))


class Challenge(SQLModel, table=True):
    """Someone disputing one fact of a model, with the value they propose and its source, until a moderator decides."""

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="model.id", index=True, ondelete="CASCADE")
    fact: str = Field(max_length=40)
    proposed: str = Field(max_length=200)
    source_url: str = Field(max_length=1000)
    note: str | None = Field(default=None, max_length=500)
    reporter: str = Field(max_length=120, index=True, description="discord:<user id> or cli:<name>")
    notify: str | None = Field(default=None, max_length=80, description="the outbox target told the outcome")
    status: str = Field(default="open", max_length=16, index=True, description="open|accepted|rejected")
    reason: str | None = Field(default=None, max_length=500, description="why it was rejected, or how it was applied")
    decided_by: str | None = Field(default=None, max_length=120)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))
    decided_at: datetime | None = Field(default=None, sa_column=_utc_column())
