"""The special edition's form says what is wrong in French, beside the field."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from newsletter.models import Digest, db
from tests.support.editors import log_in_editor


def form(client: FlaskClient) -> dict[str, str]:
    page = client.get("/admin/digests/special").get_data(as_text=True)
    token = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    return {"csrf_token": token.group(1), "regions": "asie"}


def test_a_window_ending_before_it_starts_or_an_unknown_story_is_refused_in_french(
    app: Flask, client: FlaskClient
) -> None:
    log_in_editor(client)
    for fields, shown in [
        ({"since": "2026-12-10", "until": "2026-12-01"}, "la fin de la période précède son début"),
        ({"pinned": "999"}, "aucun article n° 999."),
    ]:
        response = client.post("/admin/digests/special", data={**form(client), **fields})

        page = response.get_data(as_text=True)
        assert response.status_code == 400, fields
        assert shown in page, fields
        assert "window must start" not in page and "to pin" not in page
    assert db.session.execute(db.select(Digest)).first() is None
