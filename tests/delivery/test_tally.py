"""A finished edition's figures are counted once, as the ledger finishes it, and the pages that
list editions read them: the same numbers as its rows, through every change a finished
edition's rows can still go through (failed rows sent again, uncertain rows settled)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from newsletter import ledger
from newsletter.admin.report import sent_and_failed
from newsletter.clicks import figures
from newsletter.delivery import plan_deliveries
from newsletter.delivery.control import send_failed_again
from newsletter.ledger.tally import count
from newsletter.models import Delivery, DeliveryState, Digest, DigestStatus, db
from tests.delivery.seed import seed_all
from tests.support.editors import log_in_editor
from tests.support.smtp import SmtpSink

FULL = "552 5.2.2 Mailbox full"


@pytest.fixture
def app_overrides(app_overrides: dict[str, Any]) -> dict[str, Any]:
    return {**app_overrides, "SEND_HARD_BOUNCES": 3}


def stored_tally(digest_id: int) -> dict[str, Any] | None:
    db.session.expire_all()
    digest = db.session.get(Digest, digest_id)
    assert digest is not None
    return digest.tally


def rows_say(digest_id: int) -> dict[str, Any]:
    with db.engine.connect() as conn:
        return count(conn, digest_id)


def listed(client: FlaskClient, digest_id: int) -> tuple[str, str]:
    """The editions list's sent and failed figures for this edition."""
    page = client.get("/admin/digests").get_data(as_text=True)
    row = page.split(f'href="/admin/digests/{digest_id}"', 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
    return cells[-2], cells[-1]


def test_a_finished_editions_figures_are_its_rows_counted_once_and_kept_right_after_changes(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    log_in_editor(client)
    refused = {"reader2@example.org", "reader5@example.org"}
    seeded = seed_all(12)
    smtp_sink.rcpt_policy = lambda address: FULL if address in refused else None
    plan_deliveries(seeded.digest_id)
    digest_id = seeded.digest_id

    tally = stored_tally(digest_id)
    assert tally is not None and tally == rows_say(digest_id)
    assert tally["states"]["sent"] == 10 and tally["states"]["failed"] == 2
    assert figures.delivered([digest_id]) == {digest_id: 10}
    assert sent_and_failed([digest_id]) == {digest_id: {"sent": 10, "failed": 2}}

    # Sent again: the edition is sending again, its tally dropped, then counted anew.
    smtp_sink.rcpt_policy = None
    assert send_failed_again(digest_id) == 2
    db.session.expire_all()
    assert db.session.get(Digest, digest_id).status is DigestStatus.FINISHED
    tally = stored_tally(digest_id)
    assert tally is not None and tally == rows_say(digest_id)
    assert tally["states"]["sent"] == 12 and tally["states"].get("failed", 0) == 0
    assert figures.delivered([digest_id]) == {digest_id: 12}


def test_settling_an_uncertain_letter_of_a_finished_edition_shows_in_its_figures(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    log_in_editor(client)
    seeded = seed_all(8)
    smtp_sink.drop_policy = lambda n: "after" if n == 3 else None  # kept, but no reply
    plan_deliveries(seeded.digest_id)
    digest_id = seeded.digest_id
    assert stored_tally(digest_id) == rows_say(digest_id)
    assert listed(client, digest_id) == ("7", "0")
    [doubtful] = db.session.execute(
        sa.select(Delivery.id).where(
            Delivery.digest_id == digest_id, Delivery.state == DeliveryState.UNCERTAIN
        )
    ).scalars()

    assert ledger.settle_uncertain([doubtful], source="mail.log") == 1
    db.session.commit()

    assert stored_tally(digest_id) is None  # counted from the rows from now on
    assert figures.delivered([digest_id]) == {digest_id: 8}
    assert listed(client, digest_id) == ("8", "0")
