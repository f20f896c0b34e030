"""`newsletter digest send|status`: trigger an edition by hand and follow it."""

from __future__ import annotations

import time
from typing import Any, TextIO

import click
from flask import current_app
from flask.cli import with_appcontext

from newsletter.digests.editions import (
    EditionError,
    parse_moment,
    plan_special,
    plan_weekly,
    special_draft,
    weekly_draft,
)
from newsletter.digests.status import digest_report, dry_run
from newsletter.models import Digest, db

COUNTS = ("planned", "pending", "sent", "skipped", "failed", "bounced")
DONE = {"finished", "cancelled"}

digest = click.Group("digest", help="Digests: send an edition by hand, follow its sending.")


@digest.command("send")
@click.option("--special", is_flag=True, help="A special edition instead of this week's digest.")
@click.option("--regions", help="Special only: region slugs, comma separated (default: all).")
@click.option("--since", help="Special only: start, YYYY-MM-DD or ISO time (in TIMEZONE).")
@click.option("--until", help="Special only: end, YYYY-MM-DD (that day included) or ISO time.")
@click.option("--intro", "intro_file", type=click.File(encoding="utf-8"), help="Special only.")
@click.option("--pin", "pinned", type=int, help="Special only: id of the top story.")
@click.option("--dry-run", is_flag=True, help="Print who would get how many articles; send none.")
@click.option("--wait", is_flag=True, help="Wait until sending is over, printing progress.")
@with_appcontext
def send(
    special: bool,
    regions: str | None,
    since: str | None,
    until: str | None,
    intro_file: TextIO | None,
    pinned: int | None,
    dry_run: bool,
    wait: bool,
) -> None:
    """Start the weekly digest (once per week) or a special edition."""
    if not special and any(v is not None for v in (regions, since, until, intro_file, pinned)):
        raise click.UsageError("--regions, --since, --until, --intro and --pin need --special")
    zone = current_app.config["TIMEZONE"]
    try:
        options: dict[str, Any] = dict(
            regions=[r.strip() for r in (regions or "").split(",") if r.strip()],
            since=parse_moment(since, timezone=zone) if since else None,
            until=parse_moment(until, timezone=zone, end_of_day=True) if until else None,
            intro=intro_file.read() if intro_file else None,
            pinned_article_id=pinned,
        )
        if dry_run:
            draft = special_draft(**options) if special else weekly_draft()
            _print_dry_run(draft)
            db.session.rollback()
            return
        edition = plan_special(created_by="cli", **options) if special else plan_weekly()
    except EditionError as exc:
        raise click.UsageError(str(exc)) from None
    made = edition.digest
    verb = "Planned" if edition.created else "Already planned:"
    click.echo(f"{verb} digest {made.id} ({made.edition_key})")
    if wait:
        _wait(made.id)
    else:
        click.echo(f"Follow it with: newsletter digest status {made.id}")


@digest.command("status")
@click.argument("digest_id", type=int)
@with_appcontext
def status(digest_id: int) -> None:
    """Counts of a digest's deliveries: planned, pending, sent, skipped, failed, bounced."""
    report = digest_report(digest_id)
    if report is None:
        raise click.BadParameter(f"no digest {digest_id}", param_hint="ID")
    click.echo(f"Digest {report['id']} ({report['edition_key']}): {report['status']}")
    click.echo(f"Window: {report['window']['since']} to {report['window']['until']}")
    click.echo(_counts_line(report["counts"]))


def _counts_line(counts: dict[str, int]) -> str:
    return "  ".join(f"{name} {counts[name]}" for name in COUNTS)


def _print_dry_run(draft: Digest) -> None:
    rows = dry_run(draft)
    start, end = (f"{moment:%Y-%m-%d %H:%M}" for moment in (draft.window_start, draft.window_end))
    click.echo(f"Dry run, nothing sent. Window {start} to {end} UTC.")
    click.echo(f"{'readers':>8}  {'articles':>8}  regions")
    for row in rows:
        click.echo(f"{row.readers:>8}  {row.articles:>8}  {', '.join(row.regions) or '(none)'}")
    mailed = sum(r.readers for r in rows if r.articles)
    skipped = sum(r.readers for r in rows if not r.articles)
    click.echo(f"Would send {mailed} emails; {skipped} readers have nothing new.")


def _wait(digest_id: int, *, interval: float = 2.0) -> None:
    while True:
        db.session.rollback()  # a fresh snapshot each round
        report = digest_report(digest_id)
        assert report is not None
        click.echo(f"{report['status']}: {_counts_line(report['counts'])}")
        if report["status"] in DONE:
            return
        time.sleep(interval)
