"""`newsletter subscribers ...`: readers from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from newsletter.models import SubscriberStatus
from newsletter.subscriptions.addresses import AddressError, normalize_address
from newsletter.subscriptions.csvsource import COLUMNS, ImportFileError, inspect
from newsletter.subscriptions.export import export_readers
from newsletter.subscriptions.importer import import_csv
from newsletter.subscriptions.service import lift_suppression

subscribers = click.Group("subscribers", help="Readers of the newsletter.")


@subscribers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--confirmed",
    is_flag=True,
    help="The readers already consented elsewhere: record that instead of mailing them.",
)
@click.option("--consent-note", help="Where and how they consented (required with --confirmed).")
@click.option(
    "--encoding",
    default="utf-8",
    show_default=True,
    help="The file's encoding, e.g. cp1252 or latin-1 for older tools and Excel on Windows.",
)
@with_appcontext
def import_subscribers(
    file: Path, confirmed: bool, consent_note: str | None, encoding: str
) -> None:
    """Import FILE.csv (columns email, name, regions, language; regions as slug;slug).

    Commas, semicolons or tabs between fields: the header line decides. New readers get a
    confirmation email unless --confirmed is given. Addresses already known are left as
    they are: running the same file twice adds no one twice. Suppressed addresses (erased,
    bounced, complained) are never added back.
    """
    if confirmed and not (consent_note or "").strip():
        raise click.UsageError("--confirmed needs --consent-note TEXT (the proof of consent)")
    try:
        source = inspect(file, encoding)
        if source.ignored:
            click.echo(
                f"columns ignored (only {', '.join(COLUMNS)} are read): "
                + ", ".join(source.ignored)
            )
        with click.progressbar(length=source.data_lines, label="Importing", file=sys.stderr) as bar:
            report = import_csv(
                source,
                confirmed=confirmed,
                consent_note=(consent_note or "").strip() or None,
                on_progress=bar.update,
            )
    except ImportFileError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    for rejection in sorted(report.rejected, key=lambda r: r.line):
        click.echo(f"line {rejection.line}: {rejection.email!r} rejected: {rejection.reason}")
    verb = "recorded as confirmed" if confirmed else "added, confirmation emails queued"
    click.echo(
        f"{report.added} {verb}; {report.already_known} already known; "
        f"{len(report.rejected)} rejected"
    )


@subscribers.command("export")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([status.value for status in SubscriberStatus]),
    help="Only readers in this status (repeat for several); all readers without it.",
)
@with_appcontext
def export_subscribers(file: Path, statuses: tuple[str, ...]) -> None:
    """Write the readers to FILE.csv ("-": standard output), in UTF-8.

    Columns email, name, regions, language (as the import reads them: importing the file
    again adds no one), then status, subscribed_at and confirmed_at. A cell starting with
    = + - or @ gets a leading apostrophe, so that no spreadsheet runs it as a formula; the
    import removes it again.
    """
    chosen = [SubscriberStatus(status) for status in statuses]
    if str(file) == "-":
        count = export_readers(sys.stdout, statuses=chosen)
    else:
        with file.open("w", encoding="utf-8", newline="") as out:
            count = export_readers(out, statuses=chosen)
    click.echo(f"{count} readers exported", err=True)


@subscribers.command("unsuppress")
@click.argument("email")
@with_appcontext
def unsuppress(email: str) -> None:
    """Let EMAIL subscribe again after a hard bounce, a complaint or a manual block.

    Nothing is sent and nobody is subscribed: the reader still has to subscribe and confirm.
    """
    try:
        address = normalize_address(email, smtputf8=True)
    except AddressError as exc:
        raise click.ClickException(f"{email!r}: {exc}") from None
    if not lift_suppression(address):
        raise click.ClickException(f"{address}: not suppressed, nothing to lift")
    click.echo(f"{address}: may subscribe again (double opt-in)")
