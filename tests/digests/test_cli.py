"""`newsletter digest send|status`: what an editor at a terminal sees."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from newsletter.models import Digest, Subscriber, db, utcnow
from tests.support.smtp import SmtpSink


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    return {"SMTP_URL": smtp_sink.url, "SEND_RATE_PER_SECOND": 0.0}


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["digest", *args])


def digests() -> list[Digest]:
    return list(db.session.execute(db.select(Digest)).scalars())


def test_dry_run_prints_readers_and_articles_per_region_combination_and_sends_nothing(
    app: Flask,
    sample_articles: None,
    smtp_sink: SmtpSink,
    make_reader: Callable[..., Subscriber],
) -> None:
    make_reader("russie")
    make_reader("russie")
    make_reader("afrique", "moyen-orient")
    make_reader("asie")

    result = run(
        app, "send", "--special", "--since", "2021-12-01", "--until", "2022-05-31", "--dry-run"
    )

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Dry run, nothing sent. Window 2021-11-30 23:00 to 2022-05-31 22:00 UTC."
    assert lines[2:] == [
        "       2         4  russie",
        "       1         3  afrique, moyen-orient",
        "       1         0  asie",
        "Would send 3 emails; 1 readers have nothing new.",
    ]
    assert digests() == [] and smtp_sink.messages == []


def test_send_special_with_an_intro_file_waits_and_reports_the_counts(
    app: Flask,
    sample_articles: None,
    smtp_sink: SmtpSink,
    make_reader: Callable[..., Subscriber],
    tmp_path: Path,
) -> None:
    reader = make_reader("afrique")
    make_reader("asie")
    intro = tmp_path / "intro.txt"
    intro.write_text("Le Sahel en question.\n", encoding="utf-8")

    result = run(
        app,
        "send",
        "--special",
        "--regions",
        "afrique,asie",
        "--since",
        "2022-05-01",
        "--until",
        "2022-05-31",
        "--intro",
        str(intro),
        "--wait",
    )

    assert result.exit_code == 0, result.output
    [made] = digests()
    assert result.output.splitlines() == [
        f"Planned digest {made.id} ({made.edition_key})",
        "finished: planned 2  pending 0  sent 1  skipped 1  failed 0  bounced 0",
    ]
    [received] = smtp_sink.to(reader.email)
    assert "Le Sahel en question." in received.message.get_body(("plain",)).get_content()
    status = run(app, "status", str(made.id))
    assert status.exit_code == 0
    assert status.output.splitlines()[0] == f"Digest {made.id} ({made.edition_key}): finished"
    assert "sent 1  skipped 1" in status.output


def test_send_without_special_plans_this_weeks_digest_once(app: Flask) -> None:
    first = run(app, "send")
    again = run(app, "send")

    assert first.exit_code == 0 and again.exit_code == 0
    [made] = digests()
    assert first.output.startswith(f"Planned digest {made.id} (weekly-")
    assert again.output.startswith(f"Already planned: digest {made.id}")


def test_send_refuses_options_it_cannot_honour(app: Flask) -> None:
    assert "need --special" in run(app, "send", "--regions", "russie").output
    assert (
        "unknown region(s): atlantide"
        in run(app, "send", "--special", "--regions", "atlantide").output
    )
    assert "not a date" in run(app, "send", "--special", "--since", "demain").output
    assert "no digest 42" in run(app, "status", "42").output
    assert digests() == []


def test_the_digest_group_lists_every_command_and_status_can_watch(app: Flask) -> None:
    listed = run(app, "--help")
    status = run(app, "status", "--help")

    assert listed.exit_code == 0 and status.exit_code == 0
    commands = listed.output.split("Commands:")[1].split()
    for name in ("send", "status", "pause", "resume", "cancel", "uncertain"):
        assert name in commands, listed.output
    assert "--watch" in status.output


def test_a_special_edition_sent_at_a_time_waits_planned_and_says_when_it_leaves(
    app: Flask, sample_articles: None, smtp_sink: SmtpSink
) -> None:
    result = run(
        app, "send", "--special", "--since", "2022-05-01", "--at", "2999-01-01T08:00+01:00"
    )
    assert result.exit_code == 2 and "within 366 days" in result.output

    result = run(app, "send", "--special", "--since", "2022-05-01", "--at", _tomorrow_at_eight())

    assert result.exit_code == 0, result.output
    assert "It leaves at " in result.output and " 08:00 " in result.output
    [made] = digests()
    assert made.status.value == "planned" and made.send_at is not None
    assert smtp_sink.messages == []


def _tomorrow_at_eight() -> str:
    return f"{(utcnow() + timedelta(days=1)).date().isoformat()}T08:00"
