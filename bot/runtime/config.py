"""Settings: one TOML file plus the environment, validated once at start-up.

Lookup order: `sunset --config PATH`, then `$SUNSET_CONFIG`, then `./config.toml`, then the user's
`config.toml` (e.g. ~/.config/sunset-clause/config.toml), then the built-in defaults (which
`config.example.toml` documents, key for key). `$SUNSET_DATABASE_URL` overrides `[database] url`,
`$SUNSET_HEALTH_PORT` `[health] port`.
Secrets (`DISCORD_TOKEN`, `HF_TOKEN`) come only from the environment; a `[[notifications]]` URL may
name environment variables as `${NAME}`, expanded here and never shown.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.runtime.paths import config_candidates, default_database_url
from trackers import events
from trackers.sources import SourceSpec, kinds, source_kind
from trackers.sunset import DEFAULT_LEAD_DAYS, WINDOW_MAX, WINDOW_MIN, Policy, Profile

PROJECT_URL = "https://github.com/sunset-clause/sunset-clause"


class ConfigError(Exception):
    """A configuration problem, already phrased as the one line the user sees."""


class _Section(BaseModel):
    """A config table: unknown keys are refused, values never change once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    """`[database]`: where the record lives (empty: a SQLite file in the user data directory)."""

    url: str = ""

    def resolved_url(self) -> str:
        """The configured URL, or a SQLite file in the user data directory."""
        return self.url or default_database_url()


class SunsetSettings(_Section):
    """`[sunset]`: the default policy (window, profile) and the lead days of approaching-sunset alerts."""

    window_years: int = 10
    profile: Profile = Profile.WEIGHTS
    lead_days: list[Annotated[int, Field(gt=0, le=3650)]] = Field(default_factory=lambda: list(DEFAULT_LEAD_DAYS))

    @field_validator("window_years")
    @classmethod
    def _window_in_range(cls, value: int) -> int:
        if not WINDOW_MIN <= value <= WINDOW_MAX:
            raise ValueError(f"must be a whole number of years from {WINDOW_MIN} to {WINDOW_MAX}")
        return value

    @field_validator("lead_days")
    @classmethod
    def _not_empty(cls, value: list[int]) -> list[int]:
        if not value:
            raise ValueError("at least one lead day")
        return sorted(set(value), reverse=True)

    def policy(self) -> Policy:
        """The sunset policy these settings describe."""
        return Policy(window_years=self.window_years, profile=self.profile, lead_days=tuple(self.lead_days))


# Names the software; the operator's own contact belongs beside it (run and track say so until it is set).
DEFAULT_USER_AGENT = f"SunsetClauseBot/0.1 (+{PROJECT_URL}; operator contact not set)"
USER_AGENT_NOTE = (
    "[trackers] user_agent is the default: set it to name you, e.g. "
    '"SunsetClauseBot/0.1 (+https://your.site/bot; you@example.org)", so a lab that sees the requests can reach '
    "you rather than the project"
)


class TrackerSettings(_Section):
    """`[trackers]`: the User-Agent every request carries and how many fetches run at once."""

    user_agent: str = DEFAULT_USER_AGENT
    concurrency: Annotated[int, Field(ge=1, le=64)] = 8
    connect_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10.0
    read_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 30.0
    max_body_bytes: Annotated[int, Field(ge=1024)] = 10 * 1024 * 1024
    max_redirects: Annotated[int, Field(ge=0, le=20)] = 5
    max_failures: Annotated[int, Field(ge=1, le=1000)] = 10
    default_interval_minutes: Annotated[int, Field(ge=5, le=10080)] = 360
    allow_private_addresses: StrictBool = False  # "yes" is a typo, not consent
    evaluate_at: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "00:05"
    # A tracker worker renews its claims on the sources it polls every third of this; a worker that dies stops,
    # and another polls its sources once this has passed (PostgreSQL, several workers).
    claim_seconds: Annotated[int, Field(ge=30, le=3600)] = 300
    # false: `[[sources]]` entries are added to the default sources (one with a default's name replaces it);
    # true: only the entries in the file are polled (the behaviour before this key existed).
    replace_default_sources: StrictBool = False

    @property
    def operator_contact_set(self) -> bool:
        """Whether the operator replaced the default User-Agent (which carries no contact of theirs)."""
        return self.user_agent != DEFAULT_USER_AGENT


class SourceSettings(BaseModel):
    """One `[[sources]]` entry: the common keys, and the kind's own keys checked against the kind's options model."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=120)]
    kind: str
    lab: Annotated[str, Field(min_length=1, max_length=80)] | None = None
    interval_minutes: Annotated[int, Field(ge=5, le=10080)] | None = None

    @property
    def options(self) -> dict[str, Any]:
        """The kind's own keys, as given."""
        return dict(self.model_extra or {})

    def spec(self) -> SourceSpec:
        """This entry as the trackers' record."""
        return SourceSpec(self.name, self.kind, self.lab, self.interval_minutes, self.options)

    @field_validator("kind")
    @classmethod
    def _a_known_kind(cls, value: str) -> str:
        if value not in kinds():
            *others, last = (repr(name) for name in kinds())
            expected = f"{', '.join(others)} or {last}"
            raise PydanticCustomError("literal_error", "Input should be {expected}", {"expected": expected})
        return value

    @model_validator(mode="after")
    def _kind_options_are_valid(self) -> SourceSettings:
        options = source_kind(self.kind).options
        try:
            options.model_validate(self.options)
        except ValidationError as error:
            raise ValueError(f"source {self.name!r}: {_option_problem(error, self.kind, options)}") from None
        return self


def _option_problem(error: ValidationError, kind: str, options: type[BaseModel]) -> str:
    """The first problem with a source's own keys, as words: which key, what is wrong, what is allowed."""
    problems = error.errors()
    first = next((item for item in problems if item["type"] == "extra_forbidden"), problems[0])
    key = ".".join(str(part) for part in first["loc"])
    if first["type"] == "extra_forbidden":
        expected = ", ".join(sorted({*options.model_fields, "name", "kind", "lab", "interval_minutes"}))
        return f"unknown key {key!r} for {kind} (keys: {expected})"
    if first["type"] == "missing":
        return f"kind {kind} needs {key}"
    message = first["msg"].removeprefix("Value error, ")
    if not key:  # a rule over several keys (github: repo or url)
        return f"kind {kind} {message}"
    if first["type"] == "value_error":
        return f"{key}: {message}"
    return f"{key}: {message} (got {first.get('input')!r})"


class DiscordSettings(_Section):
    """`[discord]`: guilds to sync commands to, sharding, and the default weekly digest time."""

    guild_ids: list[int] = Field(default_factory=list)
    # None: one connection unless Discord recommends more (GET /gateway/bot); "auto": always sharded, as many
    # shards as Discord recommends; N: always sharded, N shards.
    shards: Annotated[int, Field(ge=1, le=1024)] | Literal["auto"] | None = None
    digest_weekday: Annotated[int, Field(ge=0, le=6)] = 0
    digest_hour: Annotated[int, Field(ge=0, le=23)] = 9


class SiteSettings(_Section):
    """`[site]`: where `sunset run` writes the Sunset Board and the URL it is served from."""

    output_dir: str = ""
    base_url: str = ""

    @field_validator("base_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be an absolute http(s) URL, e.g. https://sunset.example.org/")
        return value.rstrip("/") + "/" if value else ""


# What a notification target may ask for: the alert kinds of /subscribe, and the two weekly posts.
WEEKLY_DIGEST, WEEKLY_CAMPAIGN = "weekly_digest", "weekly_campaign"
DEFAULT_EVENTS = (events.SUNSET_PASSED, events.SUNSET_APPROACHING, events.OPENED_AFTER_SUNSET, events.NEW_MODEL)
ALERT_EVENTS = (*DEFAULT_EVENTS, events.OPENNESS_CHANGED)
NOTIFICATION_EVENTS = (*ALERT_EVENTS, WEEKLY_DIGEST, WEEKLY_CAMPAIGN)


class NotificationSettings(BaseModel):
    """One `[[notifications]]` target: an Apprise URL, what it wants, and how its messages are written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")]
    url: SecretStr  # secrets inside: never shown, logged or dumped
    scope: Literal["all", "lab", "model"] = "all"
    value: str = ""
    events: tuple[str, ...] = DEFAULT_EVENTS
    style: Literal["auto", "text", "markdown", "social"] = "auto"
    max_length: Annotated[int, Field(ge=100, le=100_000)] | None = None
    weekday: Annotated[int, Field(ge=0, le=6)] = 0  # the weekly posts: Monday…
    hour: Annotated[int, Field(ge=0, le=23)] = 9  # …09:00 UTC

    @field_validator("url")
    @classmethod
    def _looks_like_a_url(cls, value: SecretStr) -> SecretStr:
        if not re.match(r"^[a-z][a-z0-9+.-]*://\S", value.get_secret_value(), re.IGNORECASE):
            raise ValueError("must be an Apprise URL such as json://host/path or mastodons://token@host")
        return value

    @field_validator("events", mode="before")
    @classmethod
    def _event_names(cls, value: Any) -> Any:
        if value == "default":
            return DEFAULT_EVENTS
        if value == "all":
            return ALERT_EVENTS
        if not isinstance(value, list) or not value:
            raise ValueError('must be "default", "all" or a list of event names')
        unknown = [item for item in value if item not in NOTIFICATION_EVENTS]
        if unknown:
            raise ValueError(f"unknown event {unknown[0]!r} (known: {', '.join(NOTIFICATION_EVENTS)})")
        return tuple(dict.fromkeys(value))

    @model_validator(mode="after")
    def _value_for_scope(self) -> NotificationSettings:
        if self.scope != "all" and not self.value:
            raise ValueError(f"a {self.scope} target needs value = the {self.scope}'s slug")
        if self.scope == "all" and self.value:
            raise ValueError('value is only for scope = "lab" or "model"')
        return self


class HealthSettings(_Section):
    """`[health]`: the address of `sunset run`'s health endpoint (port 0: none)."""

    # `sunset run`'s GET /healthz (bot/runtime/health.py); port 0 = no endpoint.
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 0


class LoggingSettings(_Section):
    """`[logging]`: the level of the log lines `sunset run` prints besides its own summaries."""

    # WARNING: `sunset run` prints its own summaries; INFO adds a `source=… status=…` line per source polled.
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"


# The shipped sources (config.example.toml lists the same, with a comment each): official feeds where labs
# publish one, their Hugging Face organisations and GitHub repositories where they do not.
_DEFAULT_SOURCES: tuple[dict[str, Any], ...] = (
    {"name": "catalog", "kind": "catalog"},
    {"name": "openai-news", "kind": "rss", "lab": "openai", "url": "https://openai.com/news/rss.xml"},
    {"name": "deepmind-blog", "kind": "rss", "lab": "deepmind", "url": "https://deepmind.google/blog/rss.xml"},
    {"name": "google-research-blog", "kind": "rss", "lab": "google", "url": "https://research.google/blog/rss/"},
    {
        "name": "microsoft-research-blog",
        "kind": "rss",
        "lab": "microsoft",
        "url": "https://www.microsoft.com/en-us/research/feed/",
    },
    {"name": "huggingface-blog", "kind": "rss", "lab": "huggingface", "url": "https://huggingface.co/blog/feed.xml"},
    {"name": "nvidia-blog", "kind": "rss", "lab": "nvidia", "url": "https://blogs.nvidia.com/feed/"},
    {
        "name": "aws-ml-blog",
        "kind": "rss",
        "lab": "amazon",
        "url": "https://aws.amazon.com/blogs/machine-learning/feed/",
    },
    {"name": "hf-meta-llama", "kind": "huggingface", "lab": "meta", "author": "meta-llama"},
    {"name": "hf-facebook", "kind": "huggingface", "lab": "meta", "author": "facebook"},
    {"name": "hf-mistralai", "kind": "huggingface", "lab": "mistral", "author": "mistralai"},
    {"name": "hf-qwen", "kind": "huggingface", "lab": "alibaba", "author": "Qwen"},
    {"name": "hf-deepseek-ai", "kind": "huggingface", "lab": "deepseek", "author": "deepseek-ai"},
    {"name": "hf-google", "kind": "huggingface", "lab": "google", "author": "google"},
    {"name": "hf-microsoft", "kind": "huggingface", "lab": "microsoft", "author": "microsoft"},
    {"name": "hf-allenai", "kind": "huggingface", "lab": "allenai", "author": "allenai"},
    {"name": "hf-eleutherai", "kind": "huggingface", "lab": "eleutherai", "author": "EleutherAI"},
    {"name": "hf-stabilityai", "kind": "huggingface", "lab": "stability", "author": "stabilityai"},
    {"name": "hf-nvidia", "kind": "huggingface", "lab": "nvidia", "author": "nvidia"},
    {"name": "hf-ibm-granite", "kind": "huggingface", "lab": "ibm", "author": "ibm-granite"},
    {"name": "hf-coherelabs", "kind": "huggingface", "lab": "cohere", "author": "CohereLabs"},
    {"name": "hf-tiiuae", "kind": "huggingface", "lab": "tii", "author": "tiiuae"},
    {"name": "hf-xai-org", "kind": "huggingface", "lab": "xai", "author": "xai-org"},
    {"name": "hf-openai", "kind": "huggingface", "lab": "openai", "author": "openai"},
    {"name": "hf-moonshotai", "kind": "huggingface", "lab": "moonshot", "author": "moonshotai"},
    {"name": "hf-zai-org", "kind": "huggingface", "lab": "zhipu", "author": "zai-org"},
    {"name": "hf-minimaxai", "kind": "huggingface", "lab": "minimax", "author": "MiniMaxAI"},
    {"name": "hf-01-ai", "kind": "huggingface", "lab": "01-ai", "author": "01-ai"},
    {"name": "github-llama-models", "kind": "github", "lab": "meta", "repo": "meta-llama/llama-models"},
    {"name": "github-whisper", "kind": "github", "lab": "openai", "repo": "openai/whisper", "model": "Whisper"},
    {"name": "github-mistral-inference", "kind": "github", "lab": "mistral", "repo": "mistralai/mistral-inference"},
    {"name": "github-olmo", "kind": "github", "lab": "allenai", "repo": "allenai/OLMo"},
    {"name": "epoch", "kind": "epoch", "url": "https://epoch.ai/data/notable_ai_models.csv", "interval_minutes": 10080},
)


def _default_sources() -> list[SourceSettings]:
    return [SourceSettings.model_validate(entry) for entry in _DEFAULT_SOURCES]


class Settings(BaseModel):
    """Everything the application reads from config and environment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    sunset: SunsetSettings = Field(default_factory=SunsetSettings)
    trackers: TrackerSettings = Field(default_factory=TrackerSettings)
    sources: list[SourceSettings] = Field(default_factory=_default_sources)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    site: SiteSettings = Field(default_factory=SiteSettings)
    notifications: list[NotificationSettings] = Field(default_factory=list)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    discord_token: SecretStr | None = Field(default=None, exclude=True)
    hf_token: SecretStr | None = Field(default=None, exclude=True)
    # A testing and self-hosting hook (see README): another Discord API, e.g. http://127.0.0.1:8080/api/v10.
    discord_api_base: str | None = Field(default=None, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _sources_add_to_the_defaults(cls, data: Any) -> Any:
        """The file's `[[sources]]` first (so errors keep their index), then the defaults it does not rename."""
        if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
            return data
        trackers = data.get("trackers")
        if isinstance(trackers, dict) and trackers.get("replace_default_sources") is True:
            return data
        given = {
            entry.get("name") if isinstance(entry, dict) else getattr(entry, "name", None) for entry in data["sources"]
        }
        kept = [dict(entry) for entry in _DEFAULT_SOURCES if entry["name"] not in given]
        return {**data, "sources": [*data["sources"], *kept]}

    @model_validator(mode="after")
    def _unique_source_names(self) -> Settings:
        names = [source.name for source in self.sources]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"source names must be unique: {', '.join(duplicates)}")
        targets = [target.name for target in self.notifications]
        duplicates = sorted({name for name in targets if targets.count(name) > 1})
        if duplicates:
            raise ValueError(f"notification names must be unique: {', '.join(duplicates)}")
        return self


def config_path(explicit: Path | None, env: Mapping[str, str]) -> Path | None:
    """Which config file to read: the option, $SUNSET_CONFIG, ./config.toml, the user's config file, else none."""
    if explicit is not None:
        return explicit
    if env.get("SUNSET_CONFIG"):
        return Path(env["SUNSET_CONFIG"])
    return next((candidate for candidate in config_candidates(env) if candidate.is_file()), None)


def load_settings(explicit: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate settings; raises ConfigError with one readable line."""
    env = os.environ if env is None else env
    path = config_path(explicit, env)
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise ConfigError(f"config file not found: {path}") from error
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(f"config file {path} is not valid TOML: {error}") from error
    if env.get("SUNSET_DATABASE_URL"):
        data.setdefault("database", {})
        if isinstance(data["database"], dict):
            data["database"]["url"] = env["SUNSET_DATABASE_URL"]
    if env.get("SUNSET_HEALTH_PORT"):  # what a container image sets, since its config file is the operator's
        data.setdefault("health", {})
        if isinstance(data["health"], dict):
            data["health"]["port"] = env["SUNSET_HEALTH_PORT"]
    discord = data.get("discord")
    if isinstance(discord, dict) and "alert_role_id" in discord:
        raise ConfigError(
            f"discord.alert_role_id in {path} is no longer a setting (it was never used: alerts never mention "
            "anyone, a role included); delete the line"
        )
    for key in ("discord_token", "hf_token"):
        if key in data:
            raise ConfigError(f"{key} is a secret: set ${key.upper()} in the environment, not in {path}")
    _expand_notification_urls(data, env, path)
    data["discord_token"] = env.get("DISCORD_TOKEN") or None
    data["hf_token"] = env.get("HF_TOKEN") or None
    data["discord_api_base"] = env.get("DISCORD_API_BASE") or None
    try:
        return Settings.model_validate(data)
    except ValidationError as error:
        raise ConfigError(describe_validation_error(error, path)) from error


_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand_notification_urls(data: dict[str, Any], env: Mapping[str, str], path: Path | None) -> None:
    """Replace `${NAME}` in each `[[notifications]]` url with the environment's value (a missing one is an error)."""
    entries = data.get("notifications")
    if not isinstance(entries, list):
        return
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            continue
        missing = [name for name in _ENV_REFERENCE.findall(entry["url"]) if not env.get(name)]
        if missing:
            where = f" in {path}" if path else ""
            raise ConfigError(
                f"invalid config{where}: notifications.{number}.url: ${{{missing[0]}}} is not set in the environment"
            )
        entry["url"] = _ENV_REFERENCE.sub(lambda match: env[match.group(1)], entry["url"])


def describe_validation_error(error: ValidationError, path: Path | None) -> str:
    """The first problem as one line: which key, what was wrong, what is allowed."""
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    where = f" in {path}" if path else ""
    value = first.get("input")
    shown = f" (got {value!r})" if not isinstance(value, dict | list) and value is not None else ""
    if first["loc"][:1] == ("notifications",) and "url" in first["loc"]:
        shown = ""  # an Apprise URL carries tokens: never repeat it
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    if first["type"] == "enum" or first["type"] == "literal_error":
        expected = first.get("ctx", {}).get("expected", "")
        message = f"must be one of {expected}"
    return f"invalid config{where}: {key}: {message}{shown}"
