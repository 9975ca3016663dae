"""Push notifications: each topic's events sent to its `notify` targets through Apprise.

Whatever process crawls runs a Notifier: `govwatch serve` every few seconds, `govwatch
crawl --topics` after its pass. `start` registers the targets (a new one is owed the events
from then on); `run` finds the matching events each target is owed and records one delivery
per (event, target) with its message (store/deliveries.py), then sends what is due: one
message per event, or digests when a target is owed more than `notify_digest` at once. A
failed send is tried again after `notify_retry_base` seconds, doubling, up to
`notify_attempts` attempts; the rest owed to that target wait as long, since its service is
down for them too.

Secrets: a target is written with `${NAME}` (topics.py expands it from the environment);
the expanded values are masked in everything shown — the target's label (Apprise's privacy
form of its URL), errors kept in the store, and every log line of Apprise and its HTTP
client, at any level.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import apprise

from govwatch.errors import ConfigError
from govwatch.feeds.push_messages import DIGEST_LINES, digest, event_message, trial_message
from govwatch.feeds.topics import Topic, expand_secrets
from govwatch.settings import Settings
from govwatch.store import Store
from govwatch.store.deliveries import (
    Message,
    add_deliveries,
    claim_due,
    count_due,
    cursors,
    mark_failed,
    mark_sent,
    postpone,
    register_targets,
)
from govwatch.store.rows import FeedEventRow

log = logging.getLogger(__name__)

Send = Callable[[str, str, str], str | None]
"""(url, title, Markdown body) → None when delivered, else why not."""

BATCH = 200
"""Events read per query while looking for what a target is owed."""
RESCAN = 100
"""Events before a target's cursor looked at again: on PostgreSQL event ids can commit out
of order, and a delivery already recorded is not recorded twice."""
SEND_LEASE = timedelta(seconds=20)
"""How long a sender holds a message it is sending (Apprise gives up on a service after
4 s to connect and 4 s per read); past it, a dead sender's message is sent by another."""
MAX_BACKOFF = 3600.0
MASKED_LOGGERS = ("apprise", "urllib3.connectionpool")
"""Loggers that may write a target's URL: Apprise's, and the HTTP client's under it."""


class _Masked(logging.Filter):
    """Masks every secret a Notifier expanded in the records of MASKED_LOGGERS."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        masked = mask(text, self.secrets)
        if masked != text:
            record.msg, record.args = masked, ()
        return True


_MASK = _Masked()
_APPRISE_LOCK = threading.Lock()  # LogCapture swaps handlers on Apprise's one logger


def mask(text: str, secrets: Sequence[str] | set[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def apprise_send(url: str, title: str, body: str) -> str | None:
    """Send through Apprise; None when the service took it, else Apprise's last warning."""
    notifier = apprise.Apprise()
    if not notifier.add(url):
        return "Apprise cannot read this URL"
    capture = apprise.LogCapture(level=logging.WARNING, fmt="%(message)s")  # type: ignore[no-untyped-call]
    with _APPRISE_LOCK, capture as logs:
        ok = notifier.notify(body=body, title=title, body_format=apprise.NotifyFormat.MARKDOWN)
        lines = [line for line in logs.getvalue().splitlines() if line.strip()]
    if ok:
        return None
    return lines[-1][:500] if lines else "not delivered"


@dataclass(frozen=True)
class Target:
    """A place topics push to; `url` is expanded and never shown, `label` is masked."""

    key: str
    label: str
    topics: tuple[Topic, ...]
    url: str = field(repr=False)
    secrets: tuple[str, ...] = field(repr=False)


def targets_of(topics: Sequence[Topic], environ: Mapping[str, str]) -> list[Target]:
    """One Target per notify URL as written (a URL two topics share is one target, owed
    each event once); ConfigError for a URL Apprise does not know, naming only its scheme."""
    found: dict[str, list[Topic]] = {}
    for topic in topics:
        for template in topic.notify:
            found.setdefault(template, []).append(topic)
    for name in MASKED_LOGGERS if found else ():
        if _MASK not in logging.getLogger(name).filters:
            logging.getLogger(name).addFilter(_MASK)
    targets = []
    for template, owners in found.items():
        try:
            url, secrets = expand_secrets(template, environ)
        except KeyError as exc:
            raise ConfigError(
                f"topic {owners[0].id!r}: notify: ${{{exc.args[0]}}} is not set in the environment"
            ) from None
        _MASK.secrets.update(secrets)
        plugin = apprise.Apprise.instantiate(url)
        if not plugin:
            scheme = template.split("://", 1)[0]
            raise ConfigError(
                f"topic {owners[0].id!r}: notify: {scheme}://… is not a notification URL "
                "Apprise knows (https://github.com/caronc/apprise/wiki)"
            )
        label = mask(str(plugin.url(privacy=True)), secrets)  # type: ignore[no-untyped-call]
        key = hashlib.sha256(template.encode()).hexdigest()
        targets.append(Target(key, label, tuple(owners), url, secrets))
    return targets


@dataclass
class PushReport:
    sent: int = 0
    """Events delivered (a digest counts each of its events)."""
    failed: int = 0
    """Events whose send failed this time (tried again later, or given up)."""


class Notifier:
    """Finds what each target is owed and sends it; safe to call from one thread at a time
    per process (a lock sees to it), and from many processes at once (claims do)."""

    def __init__(
        self,
        store: Store,
        topics: Sequence[Topic],
        base_url: str,
        settings: Settings,
        *,
        environ: Mapping[str, str] | None = None,
        send: Send = apprise_send,
    ) -> None:
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.settings = settings
        self.targets = {
            t.key: t for t in targets_of(topics, os.environ if environ is None else environ)
        }
        self._send = send
        self._planned_at = -1
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self.targets)

    def mask(self, text: str) -> str:
        """`text` with the secrets of every target masked, to be shown or logged."""
        return mask(text, {s for t in self.targets.values() for s in t.secrets})

    def start(self) -> None:
        """Register the targets; a new one is owed the events after the newest one now."""
        register_targets(self.store, {key: t.label for key, t in self.targets.items()})

    def run(self) -> PushReport:
        """Record what the targets are owed since the last run, then send what is due."""
        with self._lock:
            newest = self.store.last_event_id()
            if newest != self._planned_at:
                self._plan(newest)
                self._planned_at = newest
            report = PushReport()
            for target in self.targets.values():
                self._deliver(target, report)
            return report

    def _plan(self, newest: int) -> None:
        for key, cursor in cursors(self.store, list(self.targets)).items():
            target = self.targets[key]
            after = max(cursor.first_event, cursor.scanned_to - RESCAN)
            messages: dict[int, Message] = {}
            for topic in target.topics:
                for event in self._matching(topic, after):
                    if event.event_id not in messages:
                        messages[event.event_id] = event_message(event, topic, self.base_url)
            owed = [messages[i] for i in sorted(messages)]
            added = add_deliveries(self.store, key, owed, newest)
            if added:
                log.info("push: %d new event(s) for %s", added, target.label)

    def _matching(self, topic: Topic, after: int) -> Iterator[FeedEventRow]:
        """The topic's events after event `after` (baseline ones excluded, as in feeds)."""
        before: int | None = None
        while True:
            events = self.store.feed_events(
                kinds=topic.kinds,
                site_ids=topic.sites,
                before_id=before,
                after_id=after,
                text_any=topic.keywords,
                limit=BATCH,
            )
            yield from (e for e in events if topic.matches(e.title, e.body, e.meta))
            if len(events) < BATCH:
                return
            before = events[-1].event_id

    def _deliver(self, target: Target, report: PushReport) -> None:
        """Send what is due to `target`: each event alone, or digests when it is owed more
        than notify_digest; stop at the first failure."""
        due = count_due(self.store, target.key)
        size = DIGEST_LINES if due > self.settings.notify_digest else 1
        while True:
            claimed = claim_due(self.store, target.key, size, SEND_LEASE)
            if not claimed:
                return
            ids = [d.id for d in claimed]
            if size == 1:
                title, body = claimed[0].title, claimed[0].body
            else:
                title, body = digest([d.line for d in claimed])
            error = self._masked_send(target, title, body)
            if error is None:
                if mark_sent(self.store, claimed) < len(ids):
                    log.warning(
                        "push to %s: sending outlasted its %ds claim; another sender may "
                        "have sent it too",
                        target.label,
                        SEND_LEASE.total_seconds(),
                    )
                report.sent += len(ids)
                continue
            report.failed += len(ids)
            attempts = max(d.attempts for d in claimed) + 1
            retry_in = timedelta(
                seconds=min(self.settings.notify_retry_base * 2 ** (attempts - 1), MAX_BACKOFF)
            )
            given_up = attempts >= self.settings.notify_attempts
            mark_failed(self.store, claimed, error, None if given_up else retry_in)
            postpone(self.store, target.key, retry_in)
            log.warning(
                "push to %s failed (attempt %d%s): %s",
                target.label,
                attempts,
                ", given up" if given_up else f", again in {retry_in.total_seconds():.0f}s",
                error,
            )
            return

    def _masked_send(self, target: Target, title: str, body: str) -> str | None:
        return masked_send(self._send, target, title, body)


def masked_send(send: Send, target: Target, title: str, body: str) -> str | None:
    """`send` to `target`; why it failed, its secrets masked (None: delivered)."""
    try:
        error = send(target.url, title, body)
    except Exception as exc:  # a plugin's bug must not stop the crawl or the server
        error = f"{type(exc).__name__}: {exc}"
    return None if error is None else mask(error, target.secrets)


def send_trial(
    topic: Topic, environ: Mapping[str, str], send: Send = apprise_send
) -> list[tuple[str, str | None]]:
    """A test message to each target of `topic`: (label, None or why it failed)."""
    title, body = trial_message(topic)
    return [(t.label, masked_send(send, t, title, body)) for t in targets_of([topic], environ)]
