"""An edition's console page links to its archive page only when the archive shows it.

The archive shows finished editions that delivered at least one letter and are not hidden,
and answers 404 for the others: the console says why an edition is absent rather than link to
that 404. Read in English (the browser's language) so the words do not wait for a catalogue.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from newsletter.ingest.feeds import ingest_file
from newsletter.models import DeliveryState, Digest, DigestKind, DigestStatus, db
from tests.admin.test_editions import rows
from tests.digests.conftest import SAMPLE_FEED, SAMPLE_SINCE, SAMPLE_UNTIL
from tests.support.editors import log_in_editor

ENGLISH = {"Accept-Language": "en"}
NO_LETTER = "Not in the archive: no letter was delivered."


@pytest.fixture
def editor(app: Flask, client: FlaskClient) -> FlaskClient:
    ingest_file(SAMPLE_FEED)  # articles in the editions' window: the archive page has a letter
    return log_in_editor(client)


def made(key: str, status: DigestStatus = DigestStatus.FINISHED, **fields: Any) -> Digest:
    digest = Digest(
        edition_key=key,
        kind=DigestKind.SPECIAL,
        status=status,
        window_start=SAMPLE_SINCE,
        window_end=SAMPLE_UNTIL,
        **fields,
    )
    db.session.add(digest)
    db.session.commit()
    return digest


def archive_section(editor: FlaskClient, digest: Digest) -> str:
    response = editor.get(f"/admin/digests/{digest.id}", headers=ENGLISH)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    found = re.search(r'<section class="archive-toggle".*?</section>', page, re.S)
    assert found
    return found.group(0)


def archive_links(section: str) -> list[str]:
    return re.findall(r'href="(/archive/[^"]*)"', section)


def test_an_edition_that_delivered_a_letter_links_to_its_archive_page_which_answers(
    editor: FlaskClient,
) -> None:
    digest = made("special-delivered")
    rows(digest.id, DeliveryState.SENT, 1)
    rows(digest.id, DeliveryState.FAILED, 2)

    section = archive_section(editor, digest)

    assert archive_links(section) == [f"/archive/{digest.id}/"]
    assert "See it in the archive" in section and NO_LETTER not in section
    stranger = editor.application.test_client()
    assert stranger.get(f"/archive/{digest.id}/").status_code == 200


def test_an_edition_that_delivered_no_letter_says_so_and_has_no_link(
    editor: FlaskClient,
) -> None:
    digest = made("special-none-delivered")
    rows(digest.id, DeliveryState.FAILED, 2)
    rows(digest.id, DeliveryState.UNCERTAIN, 1)

    section = archive_section(editor, digest)

    assert archive_links(section) == []
    assert NO_LETTER in section
    assert editor.application.test_client().get(f"/archive/{digest.id}/").status_code == 404


def test_a_hidden_edition_has_no_link(editor: FlaskClient) -> None:
    digest = made("special-hidden", archive_hidden=True)
    rows(digest.id, DeliveryState.SENT, 1)

    section = archive_section(editor, digest)

    assert archive_links(section) == []
    assert "Hidden: this edition is absent" in section and NO_LETTER not in section


def test_an_edition_still_sending_promises_the_archive_without_a_link(
    editor: FlaskClient,
) -> None:
    digest = made("special-sending", DigestStatus.SENDING)
    rows(digest.id, DeliveryState.SENT, 1)

    section = archive_section(editor, digest)

    assert archive_links(section) == []
    assert "Shown in the archive once sent" in section and NO_LETTER not in section
