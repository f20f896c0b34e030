"""`newsletter digest pause|resume|cancel|uncertain ID` and `digest status ID --watch`.

Added to the digests' `digest` group (newsletter.digests.commands) by `extend_digest_group`.
"""

from __future__ import annotations

import time
from typing import Any

import click
from flask.cli import with_appcontext

from newsletter.delivery.control import NotAllowed, cancel, pause, resume
from newsletter.delivery.progress import Progress, progress_line, snapshot
from newsletter.delivery.uncertain import (
    message_ids_in,
    send_again,
    settle_from_log,
    uncertain_rows,
)


@click.command("pause")
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


@click.command("resume")
@click.argument("digest_id", type=int)
@with_appcontext
def resume_command(digest_id: int) -> None:
    """Go on sending a paused digest; nobody already mailed is mailed again."""
    try:
        resume(digest_id)
    except NotAllowed as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Digest {digest_id} sending again")


@click.command("cancel")
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


@click.command("uncertain")
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


def watch(digest_id: int, *, interval: float = 2.0, rounds: int | None = None) -> None:
    """Redraw a progress line until the digest is finished or cancelled (Ctrl-C to leave)."""
    previous: Progress | None = None
    done = 0
    while True:
        current = snapshot(digest_id)
        if current is None:
            raise click.BadParameter(f"no digest {digest_id}", param_hint="ID")
        click.echo("\r" + progress_line(current, previous), nl=False)
        done += 1
        if current.status in ("finished", "cancelled") or (rounds and done >= rounds):
            click.echo()
            return
        previous = current
        time.sleep(interval)


def extend_digest_group(group: click.Group) -> None:
    """Add pause/resume/cancel/uncertain, and --watch to the group's `status` command."""
    for command in (pause_command, resume_command, cancel_command, uncertain_command):
        group.add_command(command)
    status = group.commands.get("status")
    if status is None:

        @group.command("status")
        @click.argument("digest_id", type=int)
        @with_appcontext
        def status_command(digest_id: int) -> None:
            """Counts of a digest's deliveries by state."""
            current = snapshot(digest_id)
            if current is None:
                raise click.BadParameter(f"no digest {digest_id}", param_hint="ID")
            click.echo(progress_line(current, None))

        status = status_command
    if any(param.name == "watch" for param in status.params):
        return
    status.params.append(
        click.Option(["--watch"], is_flag=True, help="Live progress until the digest ends.")
    )
    plain = status.callback
    assert plain is not None

    @with_appcontext
    def with_watch(**kwargs: Any) -> Any:
        if kwargs.pop("watch", False):
            return watch(kwargs["digest_id"])
        return plain(**kwargs)

    status.callback = with_watch
