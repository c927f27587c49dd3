"""The outbox notifier for `[[notifications]]` targets: Apprise, run in a worker thread, its outcome mapped honestly.

Apprise's `notify()` (2.x) returns an `AppriseResult`: success or failure per service, with the log lines the
service wrote during the call. It has no status-code field, but every HTTP plugin we rely on (json, form,
xml, Slack, Matrix, Mastodon, Bluesky, ntfy, Telegram, Discord) logs its failure as `… error=<status>.`,
captured per call (not from the global logger, so concurrent sends cannot mix). We read the last such
status: 401/403/404/410 and every other 4xx but 408/429 mean the target refuses for good
(`PermanentDeliveryError`: the subscription is paused); 5xx, 408/429, a connection error or timeout (no
status) are transient and retried with the outbox's back-off.

The URL is a secret: only `shown_url` (scheme and a host name) is ever displayed, and a logging filter on
Apprise's logger blanks every part of a configured URL from its messages.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from ipaddress import ip_address
from urllib.parse import unquote

import apprise

from bot.outbox.delivery import Outgoing, PermanentDeliveryError
from bot.present.plain_text import PlainMessage, Style, limit_for, render, style_for
from bot.runtime.config import ConfigError, NotificationSettings

log = logging.getLogger(__name__)

APPRISE_TARGET = "apprise:"
SEND_TIMEOUT_SECONDS = 60.0
# Generic webhooks carry the delivery's nonce as a header, so a receiver can drop a retried duplicate.
NONCE_HEADER = "X-Sunset-Delivery"
WEBHOOK_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls"})
MIN_SECRET = 8
# Apprise logs its URLs at DEBUG; urllib3 (under requests) logs each request's path, where webhook tokens live.
GUARDED_LOGGERS = ("apprise", "urllib3.connectionpool")
_STATUS = re.compile(r"error=(\d{3})\b")
_RETRYABLE_4XX = frozenset({408, 425, 429})


class TransientDeliveryError(Exception):
    """The service did not take the message this time (5xx, rate limit, no answer): the outbox retries."""


@dataclass(frozen=True)
class Target:
    """A configured notification target, ready to send: its URL (secret), style and length limit."""

    name: str
    url: str
    scheme: str
    style: Style
    limit: int
    shown: str

    @property
    def delivery_target(self) -> str:
        """The outbox's name for it: `apprise:<name>`."""
        return f"{APPRISE_TARGET}{self.name}"


def scheme_of(url: str) -> str:
    """The URL's scheme, lower-case."""
    return url.split("://", 1)[0].lower()


def _authority(url: str) -> str:
    rest = url.split("://", 1)[1] if "://" in url else url
    return re.split(r"[/?#]", rest, maxsplit=1)[0]


def _host(url: str) -> str:
    authority = _authority(url).rsplit("@", 1)[-1]
    if authority.startswith("["):
        return authority.split("]", 1)[0] + "]"
    return authority.split(":", 1)[0]


def _is_hostname(host: str) -> bool:
    """A host shown as such: an IP address, localhost or a dotted DNS name (Apprise puts tokens in the host too)."""
    try:
        ip_address(host.strip("[]"))
        return True
    except ValueError:
        return host == "localhost" or bool(re.fullmatch(r"(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,63}", host))


def shown_url(url: str) -> str:
    """The URL as people may see it: its scheme and host name, everything else (tokens, paths, ports) hidden."""
    scheme, host = scheme_of(url), _host(url)
    if not _is_hostname(host):
        return f"{scheme}://…"
    return f"{scheme}://{host}/…"


def secret_parts(url: str) -> set[str]:
    """Every piece of the URL but the scheme and the shown host: what must never reach a log line."""
    rest = url.split("://", 1)[1] if "://" in url else url
    host = _host(url)
    pieces = {rest, url, unquote(rest)}
    # Pieces as short as a user name ("bot") would blank ordinary words; tokens are longer than this.
    pieces |= {piece for piece in re.split(r"[/?#&=:@,]", rest) if len(piece) >= MIN_SECRET and piece != host}
    pieces |= {unquote(piece) for piece in set(pieces)}
    if not _is_hostname(host):
        pieces.add(host)
    return {piece for piece in pieces if len(piece) >= MIN_SECRET}


class ScrubSecrets(logging.Filter):
    """Blanks configured secrets from log records before any handler (ours or Apprise's capture) sees them."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets: set[str] = set(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with every known secret replaced by `***`."""
        if not self.secrets:
            return True
        message = record.getMessage()
        scrubbed = message
        for secret in sorted(self.secrets, key=len, reverse=True):
            scrubbed = scrubbed.replace(secret, "***")
        if scrubbed != message:
            record.msg, record.args = scrubbed, ()
        return True


_SCRUBBER = ScrubSecrets()


def guard_apprise_logs(targets: Iterable[Target]) -> None:
    """Keep every configured URL out of Apprise's and urllib3's log lines (idempotent; the filter stays on)."""
    for target in targets:
        _SCRUBBER.secrets |= secret_parts(target.url)
    for name in GUARDED_LOGGERS:
        logger = logging.getLogger(name)
        if _SCRUBBER not in logger.filters:
            logger.addFilter(_SCRUBBER)


def describe_targets(configured: Iterable[NotificationSettings]) -> dict[str, Target]:
    """The configured targets with their style, limit and redacted URL (no Apprise involved: cheap)."""
    targets: dict[str, Target] = {}
    for entry in configured:
        url = entry.url.get_secret_value()
        scheme = scheme_of(url)
        style = style_for(scheme, entry.style)
        targets[entry.name] = Target(
            entry.name, url, scheme, style, limit_for(scheme, style, entry.max_length), shown_url(url)
        )
    return targets


def build_targets(configured: Iterable[NotificationSettings]) -> dict[str, Target]:
    """The configured targets, each URL checked by Apprise itself; ConfigError (one line) for one it rejects."""
    targets = describe_targets(configured)
    guard_apprise_logs(targets.values())  # before Apprise parses them: its errors may quote the URL
    for number, target in enumerate(targets.values()):
        if apprise.Apprise.instantiate(target.url) is None:
            raise ConfigError(
                f"invalid config: notifications.{number}.url ({target.name}): Apprise does not accept this "
                f"{target.scheme}:// URL (see https://github.com/caronc/apprise/wiki for its form)"
            )
    return targets


def status_of(result: apprise.AppriseResult) -> int | None:
    """The HTTP status a failed service reported in its captured log lines (the last one), if any."""
    codes = [int(match) for entry in result.logs() for match in _STATUS.findall(entry.message)]
    return codes[-1] if codes else None


def refuses_for_good(status: int | None) -> bool:
    """Whether a status means retrying cannot help: any 4xx but timeouts and rate limits."""
    return status is not None and 400 <= status < 500 and status not in _RETRYABLE_4XX


def _send_url(target: Target, nonce: str) -> str:
    if target.scheme not in WEBHOOK_SCHEMES:
        return target.url
    return f"{target.url}{'&' if '?' in target.url else '?'}+{NONCE_HEADER}={nonce}"


def _notify(target: Target, message: PlainMessage, nonce: str) -> apprise.AppriseResult:
    """One blocking Apprise call (run in a worker thread)."""
    sender = apprise.Apprise()
    if not sender.add(_send_url(target, nonce)):
        raise PermanentDeliveryError(f"{target.delivery_target}: Apprise no longer accepts its URL")
    return sender.notify(
        body=message.body,
        title=message.title,
        body_format=apprise.NotifyFormat.MARKDOWN if message.markdown else apprise.NotifyFormat.TEXT,
        timeout=SEND_TIMEOUT_SECONDS,
    )


class AppriseNotifier:
    """Sends outbox deliveries addressed `apprise:<name>` to the configured targets."""

    def __init__(self, targets: Mapping[str, Target], *, board_url: str | None = None) -> None:
        self._targets = dict(targets)
        self._board_url = board_url or None

    async def send(self, outgoing: Outgoing) -> str:
        """Render the event for the target's medium and send it; the id is the delivery's nonce (no service id)."""
        name = outgoing.target.removeprefix(APPRISE_TARGET)
        target = self._targets.get(name)
        if target is None:
            raise PermanentDeliveryError(f"{outgoing.target}: no longer in the configuration")
        message = render(
            outgoing.kind, outgoing.payload, style=target.style, limit=target.limit, board_url=self._board_url
        )
        result = await asyncio.to_thread(_notify, target, message, outgoing.nonce)
        if result:
            return outgoing.nonce
        status = status_of(result)
        said = f"{status} {_phrase(status)}" if status is not None else "no answer (connection failed or timed out)"
        reason = f"{outgoing.target} ({target.shown}): {said}"
        if refuses_for_good(status):
            raise PermanentDeliveryError(reason)
        raise TransientDeliveryError(reason)

    async def already_sent(self, outgoing: Outgoing) -> str | None:
        """These services keep no history we can search: an interrupted send may be repeated once."""
        return None


def _phrase(status: int | None) -> str:
    try:
        return HTTPStatus(status or 0).phrase
    except ValueError:
        return "error"
