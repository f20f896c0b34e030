"""`newsletter doctor`, and the worker's refusal to send in production on a blocking failure."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from newsletter.doctor.checks import all_checks, blocking_failures
from newsletter.doctor.report import Verdict


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per check, in a list.")
@with_appcontext
def doctor(as_json: bool) -> None:
    """Check the sending configuration: From, DKIM, SPF, DMARC, BASE_URL, relay, links.

    One line per check (ok, warning or FAIL) and what to fix; exits 1 when a check fails.
    """
    # httpx logs each request at INFO: the List-Unsubscribe check's GET would print a line
    # (with a signed URL) among the verdicts. The verdict says what the request found.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    checks = all_checks(current_app.config)
    if as_json:
        rows = [
            {"check": c.name, "verdict": c.verdict.value, "detail": c.detail, "fix": c.fix}
            for c in checks
        ]
        click.echo(json.dumps(rows, indent=2))
    else:
        for check in checks:
            click.echo(check.line())
    failed = [c.name for c in checks if c.verdict is Verdict.FAIL]
    if not as_json:
        warned = sum(c.verdict is Verdict.WARNING for c in checks)
        click.echo(
            f"{len(failed)} failed ({', '.join(failed)}), {warned} warning(s)"
            if failed
            else f"No check failed, {warned} warning(s)."
        )
    sys.exit(1 if failed else 0)


def refuse_to_send(config: Any) -> None:
    """For the worker's entry point: in production, a blocking failure is one line and exit 2.

    Only the local checks block: a DNS or relay hiccup at start-up must not keep a worker down
    (the relay's errors are handled per message, and `newsletter doctor` reports the rest).
    """
    failures = blocking_failures(config)
    if failures:
        named = "; ".join(f"{c.name}: {c.detail}" for c in failures)
        print(
            f"newsletter: not sending in production: {named} (run `newsletter doctor`)",
            file=sys.stderr,
        )
        raise SystemExit(2)
