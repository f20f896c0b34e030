"""The service's own commands (`newsletter editors|tokens|demo|mailbox|doctor`), and every stage's
command group put on the app's CLI: `newsletter feeds|articles|digest|subscribers|bounces`."""

from __future__ import annotations

import secrets
from datetime import datetime

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from newsletter.admin import accounts, sessions
from newsletter.delivery.bounces import bounces
from newsletter.delivery.cli import digest
from newsletter.demo import load as demo_data
from newsletter.devmail.server import serve_forever
from newsletter.doctor.command import doctor
from newsletter.ingest.commands import articles, feeds
from newsletter.subscriptions.commands import subscribers

editors = click.Group("editors", help="People who log in to the editors' area.")
tokens = click.Group("tokens", help="API bearer tokens of editors.")
demo = click.Group("demo", help="Demonstration data for a first run.")


@editors.command("create")
@click.argument("email")
@click.option("--password", help="Password; prompted for when omitted.")
@click.option("--generate", is_flag=True, help="Generate a password and print it.")
@click.option(
    "--admin",
    is_flag=True,
    help="May manage accounts, tokens and readers' data (the first editor always does).",
)
@with_appcontext
def create_editor(email: str, password: str | None, generate: bool, admin: bool) -> None:
    """Create an editor, or reset the password of an existing one."""
    if generate:
        password = secrets.token_urlsafe(12)
    elif password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        editor, created = accounts.save_editor(email, password, is_admin=admin)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from None
    click.echo(f"{'Created' if created else 'Updated'} editor {editor.email}")
    if generate:
        click.echo(f"Password: {password}")


@editors.command("list")
@with_appcontext
def list_editors() -> None:
    """Every editor: address, role, active or not, last login, live sessions."""
    for editor in accounts.list_editors():
        click.echo(
            f"{editor.email}  {'admin' if editor.is_admin else 'editor'}  "
            f"{'active' if editor.active else 'inactive'}  "
            f"last login {_when(editor.last_login_at)}  "
            f"sessions {sessions.live_session_count(editor.id)}"
        )


@editors.command("deactivate")
@click.argument("email")
@with_appcontext
def deactivate_editor(email: str) -> None:
    """Refuse an editor's logins, end their sessions and revoke their API tokens now."""
    try:
        editor, was_active = accounts.deactivate_editor(email)
    except (LookupError, ValueError):
        raise click.ClickException(f"no editor {email}") from None
    if was_active:
        click.echo(f"Deactivated editor {editor.email}; sessions ended, API tokens revoked")
    else:
        click.echo(f"Editor {editor.email} was already inactive")


@tokens.command("create")
@click.argument("email")
@click.option("--name", default="", help="What the token is for.")
@with_appcontext
def create_token(email: str, name: str) -> None:
    """Print a new API token for an editor; it is shown only this once."""
    try:
        token = accounts.issue_token(email, name=name)
    except LookupError:
        raise click.BadParameter(f"no editor {email}", param_hint="EMAIL") from None
    click.echo(token)


@tokens.command("list")
@click.argument("email")
@with_appcontext
def list_tokens(email: str) -> None:
    """An editor's tokens: id, name, created, last used, revoked (never the token itself).

    "last used" counts requests that change something (POST, PUT, PATCH, DELETE) only.
    """
    try:
        rows = accounts.tokens_of(email)
    except (LookupError, ValueError):
        raise click.ClickException(f"no editor {email}") from None
    if not rows:
        click.echo(f"No tokens for {email}")
    for row in rows:
        click.echo(
            f"{row.id}  {row.name or '-'}  created {_when(row.created_at)}  "
            f"last used {_when(row.last_used_at)}  revoked {_when(row.revoked_at, 'no')}"
        )


@tokens.command("revoke")
@click.argument("token_id", metavar="ID")
@with_appcontext
def revoke_token(token_id: str) -> None:
    """Refuse a token from now on (its id from `tokens list EMAIL`)."""
    try:
        row, revoked = accounts.revoke_token(int(token_id))
    except (LookupError, ValueError):
        raise click.ClickException(f"no token {token_id}") from None
    if revoked:
        click.echo(f"Revoked token {row.id}")
    else:
        click.echo(f"Token {row.id} was already revoked on {_when(row.revoked_at)}")


def _when(moment: datetime | None, otherwise: str = "never") -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else otherwise


@demo.command("load")
@click.option("--editor", default="editor@example.com", show_default=True)
@with_appcontext
def load_demo(editor: str) -> None:
    """Demo articles dated within the last days, demo readers and editor (idempotent)."""
    report = demo_data.load_demo()
    new, kept = report.articles_new, report.articles_kept
    click.echo(
        f"Demo articles: {new + kept} ({new} new), dated from {_when(report.oldest)} "
        f"to {_when(report.newest)}"
    )
    click.echo(
        f"Demo readers: {report.readers_new + report.readers_known} "
        f"({report.readers_new} new), confirmed, with their regions"
    )
    password = accounts.ensure_demo_editor(editor, current_app.instance_path)
    click.echo(
        f"Editors' area: {current_app.config['BASE_URL']}/admin/  "
        f"login {editor}  password {password}"
    )


@click.command("mailbox")
@click.option("--host", default="127.0.0.1", show_default=True)
@with_appcontext
def mailbox(host: str) -> None:
    """Run the development mailbox: an SMTP server that keeps what it receives."""
    if current_app.config["NEWSLETTER_ENV"] != "development":
        raise click.UsageError("the dev mailbox exists only when NEWSLETTER_ENV=development")
    port = current_app.config["DEV_MAILBOX_PORT"]
    path = current_app.config["DEV_MAILBOX_DIR"]
    click.echo(
        f"Dev mailbox: SMTP on {host}:{port}, "
        f"read it at {current_app.config['BASE_URL']}/dev/mailbox/"
    )
    serve_forever(path, host=host, port=port)


def register_commands(app: Flask) -> None:
    groups = (editors, tokens, demo, mailbox, doctor, feeds, articles, digest, subscribers, bounces)
    for group in groups:
        app.cli.add_command(group)
