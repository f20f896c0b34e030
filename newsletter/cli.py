"""The `newsletter` command: Flask's CLI over create_app, with the service's own commands."""

from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup

from newsletter.app import create_app
from newsletter.config import ConfigError

cli = FlaskGroup(
    create_app=create_app,
    add_version_option=False,
    load_dotenv=False,
    help="La Revue Internationale's newsletter service.",
)


def main() -> None:
    try:
        cli.main(prog_name="newsletter")
    except ConfigError as exc:
        click.echo(f"newsletter: configuration error: {exc}", err=True)
        sys.exit(2)
