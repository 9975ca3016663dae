"""`govwatch notify test TOPIC`: a test message to each place a topic pushes to."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from govwatch.errors import ConfigError
from govwatch.settings import Settings


@click.group()
def notify() -> None:
    """Push notifications: the `notify` URLs of topics.toml."""


@notify.command("test")
@click.argument("topic_id")
@click.option("--topics", "topics_path", help="Topics file (default: GOVWATCH_TOPICS).")
def test(topic_id: str, topics_path: str | None) -> None:
    """Send a test message to each notify target of the topic; exit 1 if one failed."""
    from govwatch.feeds.push import send_trial
    from govwatch.feeds.topics import load_topics

    settings = Settings.from_env(topics=topics_path)
    if not settings.topics:
        raise ConfigError("no topics file: give --topics topics.toml (or set GOVWATCH_TOPICS)")
    topics = {t.id: t for t in load_topics(Path(settings.topics))}
    topic = topics.get(topic_id)
    if topic is None:
        known = ", ".join(t for t in topics if t != "all") or "none"
        raise ConfigError(f"{settings.topics}: no topic {topic_id!r} (topics: {known})")
    if not topic.notify:
        raise ConfigError(f"{settings.topics}: topic {topic_id!r} has no notify URLs")
    results = send_trial(topic, os.environ)
    for label, error in results:
        if error is None:
            click.echo(f"sent      {label}")
        else:
            click.echo(f"FAILED    {label}: {error}")
    if any(error is not None for _, error in results):
        sys.exit(1)
