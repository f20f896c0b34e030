"""`newsletter digest …`: send an edition by hand, follow it, steer it.

The whole command group is built here: send, status, pause, resume, cancel, uncertain.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext

from newsletter.delivery.control import NotAllowed, cancel, pause, resume
from newsletter.delivery.progress import Progress, digest_report, follow, progress_line
from newsletter.delivery.uncertain import (
    message_ids_in,
    send_again,
    settle_from_log,
    uncertain_rows,
)
from newsletter.digests.dry_run import dry_run
from newsletter.digests.editions import (
    EditionError,
    create_special,
    create_weekly,
    parse_moment,
    special_draft,
    weekly_draft,
)
from newsletter.models import Digest, db

# What `send --wait` and `status` print of the digest's summary, in this order.
SHOWN = ("planned", "pending", "sent", "skipped", "failed", "bounced")

digest = click.Group("digest", help="Digests: send an edition by hand, follow and steer it.")


@digest.command("send")
@click.option("--special", is_flag=True, help="A special edition instead of this week's digest.")
@click.option("--regions", help="Special only: region slugs, comma separated (default: all).")
@click.option("--since", help="Special only: start, YYYY-MM-DD or ISO time (in TIMEZONE).")
@click.option("--until", help="Special only: end, YYYY-MM-DD (that day included) or ISO time.")
@click.option("--intro", "intro_file", type=click.File(encoding="utf-8"), help="Special only.")
@click.option("--pin", "pinned", type=int, help="Special only: id of the top story.")
@click.option("--at", "send_at", help="Special only: send at this time (ISO, bare = TIMEZONE).")
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
    send_at: str | None,
    dry_run: bool,
    wait: bool,
) -> None:
    """Start the weekly digest (once per week) or a special edition, now or --at a time."""
    given = (regions, since, until, intro_file, pinned, send_at)
    if not special and any(v is not None for v in given):
        raise click.UsageError(
            "--regions, --since, --until, --intro, --pin and --at need --special"
        )
    zone = current_app.config["TIMEZONE"]
    try:
        options: dict[str, Any] = dict(
            regions=[r.strip() for r in (regions or "").split(",") if r.strip()],
            since=parse_moment(since, timezone=zone) if since else None,
            until=parse_moment(until, timezone=zone, end_of_day=True) if until else None,
            intro=intro_file.read() if intro_file else None,
            pinned_article_id=pinned,
            send_at=parse_moment(send_at, timezone=zone) if send_at else None,
        )
        if dry_run:
            draft = special_draft(**options) if special else weekly_draft()
            _print_dry_run(draft)
            db.session.rollback()
            return
        edition = create_special(created_by="cli", **options) if special else create_weekly()
    except EditionError as exc:
        raise click.UsageError(str(exc)) from None
    made = edition.digest
    verb = "Planned" if edition.created else "Already planned:"
    click.echo(f"{verb} digest {made.id} ({made.edition_key})")
    if made.send_at is not None:
        click.echo(f"It leaves at {made.send_at.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M %Z}.")
    if wait:
        _follow(made.id, _print_round)
    else:
        # The command as the user typed it (.venv/bin/newsletter, or newsletter in a venv).
        click.echo(f"Follow it with: {_program()} digest status {made.id}")


def _program() -> str:
    typed = sys.argv[0] if sys.argv and sys.argv[0].endswith("newsletter") else "newsletter"
    if os.path.isabs(typed) and typed.startswith(os.getcwd() + os.sep):
        return os.path.relpath(typed)  # /home/me/site/.venv/bin/newsletter -> .venv/bin/...
    return typed


@digest.command("status")
@click.argument("digest_id", type=int)
@click.option("--watch", is_flag=True, help="Live progress until the digest ends.")
@with_appcontext
def status(digest_id: int, watch: bool) -> None:
    """Counts of a digest's deliveries: planned, pending, sent, skipped, failed, bounced."""
    report = digest_report(digest_id)
    if report is None:
        raise click.BadParameter(f"no digest {digest_id}", param_hint="ID")
    if watch:
        db.session.rollback()  # follow from a fresh snapshot
        _follow(digest_id, _redraw)
        return
    click.echo(f"Digest {report['id']} ({report['edition_key']}): {report['status']}")
    click.echo(f"Window: {report['window']['since']} to {report['window']['until']}")
    click.echo(_counts_line(report["counts"]))


def _counts_line(counts: dict[str, int]) -> str:
    return "  ".join(f"{name} {counts[name]}" for name in SHOWN)


def _print_round(current: Progress, previous: Progress | None) -> None:
    """`send --wait`: a line per round."""
    click.echo(f"{current.status}: {_counts_line(current.summary())}")


def _redraw(current: Progress, previous: Progress | None) -> None:
    """`status --watch`: one line redrawn in place, left when the digest ends."""
    click.echo("\r" + progress_line(current, previous), nl=current.ended)


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


@digest.command("pause")
@click.argument("digest_id", type=int)
@click.option("--reason", default="paused by an editor", show_default=True)
@with_appcontext
def pause_command(digest_id: int, reason: str) -> None:
    """Stop sending a digest; each worker finishes at most the group it is sending."""
    try:
        pause(digest_id, reason=reason)
    except NotAllowed as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Digest {digest_id} paused: {reason}")


@digest.command("resume")
@click.argument("digest_id", type=int)
@with_appcontext
def resume_command(digest_id: int) -> None:
    """Go on sending a paused digest; nobody already mailed is mailed again."""
    try:
        resume(digest_id)
    except NotAllowed as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Digest {digest_id} sending again")


@digest.command("cancel")
@click.argument("digest_id", type=int)
@click.confirmation_option(prompt="Cancel this digest for every reader not yet mailed?")
@with_appcontext
def cancel_command(digest_id: int) -> None:
    """Stop a digest for good: every reader not yet handed over is marked cancelled."""
    try:
        count = cancel(digest_id)
    except NotAllowed as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Digest {digest_id} cancelled; {count} deliveries will not be sent")


@digest.command("uncertain")
@click.argument("digest_id", type=int)
@click.option(
    "--relay-log",
    "logs",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="The relay's log (e.g. Postfix's mail.log): rows whose Message-ID it shows are sent.",
)
@click.option(
    "--send-again",
    "send_again_",
    is_flag=True,
    help="Then send the rows still uncertain again (a reader already mailed gets it twice).",
)
@click.option("--yes", is_flag=True, help="Do not ask before sending again.")
@with_appcontext
def uncertain_command(digest_id: int, logs: tuple[str, ...], send_again_: bool, yes: bool) -> None:
    """List the deliveries nobody can know were received; settle them or send them again."""
    for path in logs:
        with open(path, encoding="utf-8", errors="replace") as lines:
            settled = settle_from_log(digest_id, message_ids_in(lines), source=path)
        click.echo(f"{settled} uncertain deliveries were accepted, per {path}: now sent")
    rows = uncertain_rows(digest_id)
    if not rows:
        click.echo(f"Digest {digest_id}: no uncertain deliveries")
        return
    click.echo(f"Digest {digest_id}: {len(rows)} uncertain deliveries")
    for row in rows:
        handed = row.handoff_at.strftime("%Y-%m-%d %H:%M:%S") if row.handoff_at else "-"
        click.echo(
            f"  {row.delivery_id}  {row.email or '(erased reader)'}  {row.message_id or '-'}"
            f"  handed over {handed}  {row.reply or ''}".rstrip()
        )
    if not send_again_:
        return
    if not yes:
        click.confirm(
            f"Send these {len(rows)} again? A reader whose message did arrive gets it twice",
            abort=True,
        )
    try:
        count = send_again(digest_id)
    except NotAllowed as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{count} deliveries will be sent again, under the same Message-IDs")


def _follow(digest_id: int, show: Callable[[Progress, Progress | None], None]) -> None:
    """Print each round of `follow` with `show(current, previous)` until the digest ends.
    Ctrl-C leaves the loop, never the sending."""
    previous: Progress | None = None
    try:
        for current in follow(digest_id):
            show(current, previous)
            previous = current
    except KeyboardInterrupt:
        click.echo()
