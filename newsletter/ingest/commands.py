"""`newsletter feeds ...` and `newsletter articles ...`: the ingest stage from the command line."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import with_appcontext

from newsletter.ingest.page import PageError, import_page
from newsletter.ingest.polling import (
    PollStatus,
    active_feed_ids,
    add_feed,
    poll_feed,
    set_feed_active,
)
from newsletter.models import Feed, db

feeds = click.Group("feeds", help="Feeds the articles come from.")
articles = click.Group("articles", help="Articles of the digests.")


@feeds.command("add")
@click.argument("url")
@with_appcontext
def add(url: str) -> None:
    """Register a feed URL; it is polled from the next round on."""
    try:
        feed, created = add_feed(url)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="URL") from None
    click.echo(f"{'Added' if created else 'Already registered'}: feed {feed.id} {feed.url}")


@feeds.command("list")
@with_appcontext
def list_feeds() -> None:
    """Every feed with its state: last success, last error."""
    rows = db.session.execute(db.select(Feed).order_by(Feed.id)).scalars().all()
    if not rows:
        click.echo("No feeds. Add one with: newsletter feeds add URL")
    for feed in rows:
        state = "active" if feed.active else "inactive"
        success = _when(feed.last_success_at)
        click.echo(f"{feed.id}  {feed.url}  [{state}]  last success: {success}")
        if feed.last_error:
            click.echo(f"    last error ({_when(feed.last_error_at)}): {feed.last_error}")


@feeds.command("pause")
@click.argument("feed_id", type=int)
@with_appcontext
def pause(feed_id: int) -> None:
    """Stop polling a feed; its articles stay."""
    _set_active(feed_id, active=False)


@feeds.command("resume")
@click.argument("feed_id", type=int)
@with_appcontext
def resume(feed_id: int) -> None:
    """Poll a paused feed again."""
    _set_active(feed_id, active=True)


def _set_active(feed_id: int, *, active: bool) -> None:
    try:
        feed = set_feed_active(feed_id, active=active)
    except LookupError:
        raise click.BadParameter(f"no feed {feed_id}", param_hint="FEED_ID") from None
    click.echo(f"{'Resumed' if active else 'Paused'}: feed {feed.id} {feed.url}")


@feeds.command("poll")
@with_appcontext
def poll() -> None:
    """Poll every active feed now, one after the other."""
    feed_ids = active_feed_ids()
    outcomes = []
    with click.progressbar(feed_ids, label="Polling feeds", show_pos=True) as bar:
        for feed_id in bar:
            outcomes.append((feed_id, poll_feed(feed_id)))
    created = updated = 0
    for feed_id, outcome in outcomes:
        if outcome.result is not None:
            created += outcome.result.created
            updated += outcome.result.updated
        if outcome.status is PollStatus.FAILED:
            click.echo(f"feed {feed_id} failed: {outcome.error}", err=True)
    failed = sum(outcome.status is PollStatus.FAILED for _, outcome in outcomes)
    click.echo(
        f"{len(feed_ids)} feeds polled: {created} new articles, {updated} updated, {failed} failed"
    )
    if failed:
        raise SystemExit(1)


@articles.command("import")
@click.argument("source")
@with_appcontext
def import_article(source: str) -> None:
    """Import one article from its page: a URL, or a saved HTML file."""
    try:
        article, outcome = import_page(source)
    except PageError as exc:
        raise click.ClickException(str(exc)) from None
    regions = ", ".join(r.slug for r in article.regions) or "none: flagged for the editors"
    click.echo(f"{outcome.capitalize()}: {article.title} ({article.url})")
    click.echo(f"  regions: {regions}; section: {article.section or 'none'}")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"
