"""The editions in the console: the list, an edition's page and the figures it polls, and the
pause, resume and cancel buttons."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from newsletter.delivery.progress import digest_report
from newsletter.models import Delivery, DeliveryState, Digest, DigestKind, DigestStatus, db
from tests.delivery.test_control import planned_not_sent
from tests.support.editors import log_in_editor
from tests.support.smtp import SmtpSink

HOSTILE = '"><img src=x onerror=alert(1)>'


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    return {"SMTP_URL": smtp_sink.url, "SEND_RATE_PER_SECOND": 0.0}


@pytest.fixture
def editor(client: FlaskClient) -> FlaskClient:
    return log_in_editor(client)


def edition(key: str, kind: DigestKind, *, status: DigestStatus, **fields: Any) -> Digest:
    digest = Digest(
        edition_key=key,
        kind=kind,
        status=status,
        window_start=datetime(2026, 11, 23, 23, tzinfo=UTC),
        window_end=datetime(2026, 11, 30, 23, tzinfo=UTC),
        **fields,
    )
    db.session.add(digest)
    db.session.commit()
    return digest


def rows(digest_id: int, state: DeliveryState, count: int, **fields: Any) -> None:
    """Ledger rows as a finished sending leaves them (readers long erased)."""
    db.session.add_all(
        Delivery(digest_id=digest_id, subscriber_id=None, state=state, **fields)
        for _ in range(count)
    )
    db.session.commit()


def csrf_in(html: str, action: str) -> str:
    form = html[html.index(f'action="{action}"') :]
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert found, f"no CSRF token in the form {action}"
    return found.group(1)


def visible(html: str) -> str:
    """The page's text, without its tags and their attributes (links, keys)."""
    return re.sub(r"<[^>]+>", " ", html)


def flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+">([^<]*)</p>', html)


def shown_controls(html: str) -> set[str]:
    """The controls the page shows (the others are in the page, hidden, for the script)."""
    tags = re.findall(r"<(?:form|a)\b[^>]*data-control=\"\w+\"[^>]*>", html)
    return {
        re.search(r'data-control="(\w+)"', tag).group(1) for tag in tags if " hidden" not in tag
    }


def test_the_list_shows_every_edition_newest_first_in_words_and_paris_time(
    app: Flask, editor: FlaskClient
) -> None:
    weekly = edition(
        "weekly-2026-W49",
        DigestKind.WEEKLY,
        status=DigestStatus.FINISHED,
        created_at=datetime(2026, 12, 1, 13, 5, tzinfo=UTC),
        planned_count=7,
    )
    rows(weekly.id, DeliveryState.SENT, 5)
    rows(weekly.id, DeliveryState.FAILED, 2)
    edition(
        "special-2026-12-01-3",
        DigestKind.SPECIAL,
        status=DigestStatus.PAUSED,
        region_slugs=["afrique", "moyen-orient"],
        created_at=datetime(2026, 12, 1, 16, 30, tzinfo=UTC),
    )

    html = editor.get("/admin/digests").get_data(as_text=True)

    special_at = html.index("Édition spéciale du 1ᵉʳ décembre 2026")
    weekly_at = html.index("Lettre hebdomadaire — semaine 49")
    assert special_at < weekly_at  # newest first
    special_row, weekly_row = html[special_at:weekly_at], html[weekly_at:]
    assert "Afrique, Moyen-Orient" in special_row and "en pause" in special_row
    assert "1 déc. 2026, 17:30" in special_row  # 16:30 UTC is 17:30 in Paris
    assert "terminée" in weekly_row and "1 déc. 2026, 14:05" in weekly_row
    figures = re.findall(r"<td>(\d+)</td>", weekly_row)[:3]
    assert figures == ["7", "5", "2"]  # planned, sent, failed
    assert "special-2026-12-01-3" not in visible(html)
    assert "weekly-2026-W49" not in visible(html)


def test_the_list_is_one_click_from_every_console_page_and_the_menu_is_not_repeated(
    app: Flask, editor: FlaskClient
) -> None:
    for path in ("/admin/", "/admin/digests", "/admin/articles", "/admin/digests/special"):
        html = editor.get(path).get_data(as_text=True)
        assert html.count('href="/admin/digests"') >= 1, path
        assert html.count('href="/admin/digests/special"') <= 2, path  # the menu, and a link
        nav = html[html.index('<nav class="admin-nav"') : html.index("</nav>")]
        assert nav.count('href="/admin/digests/preview"') == 1, path
        assert html.count('<nav class="admin-nav"') == 1, path


def test_a_page_number_that_is_not_one_is_a_400(app: Flask, editor: FlaskClient) -> None:
    for page in ("abc", "0", "-1", "1e3", "9" * 30):
        assert editor.get(f"/admin/digests?page={page}").status_code == 400, page
    assert editor.get("/admin/digests?page=2").status_code == 200


def test_an_editions_page_says_its_window_regions_and_counts_in_words(
    app: Flask, editor: FlaskClient
) -> None:
    digest = edition(
        "special-2026-12-01-HBF0_BQMcHHOGd3b",
        DigestKind.SPECIAL,
        status=DigestStatus.FINISHED,
        region_slugs=["union-europeenne", "russie"],
        planned_count=6,
    )
    rows(digest.id, DeliveryState.SENT, 3)
    rows(digest.id, DeliveryState.SKIPPED, 1)
    rows(
        digest.id, DeliveryState.FAILED, 1, smtp_code=550, smtp_reply="550 5.1.1 <a@x.org>: unknown"
    )
    rows(
        digest.id, DeliveryState.FAILED, 1, smtp_code=550, smtp_reply="550 5.1.1 <b@y.org>: unknown"
    )

    html = editor.get(f"/admin/digests/{digest.id}").get_data(as_text=True)

    assert "<h1>Édition spéciale du 1ᵉʳ décembre 2026</h1>" in html
    assert "du 24 nov. 2026, 00:00 au 1 déc. 2026, 00:00" in html
    assert "Union européenne, Russie" in html and "union-europeenne" not in visible(html)
    assert "terminée" in html and "finished" not in visible(html)
    counts = dict(re.findall(r'<th scope="row">([^<]+)</th><td data-count="\w+">(\d+)</td>', html))
    assert counts["Prévus"] == "6" and counts["Envoyés"] == "3"
    assert counts["Sans nouveauté"] == "1" and counts["Échecs"] == "2"
    assert counts["dont rejets définitifs"] == "2" and counts["Incertains"] == "0"
    # Two replies that differ only by their recipient are one reason.
    assert "<td>550</td><td>550 5.1.1 &lt;…&gt;: unknown</td><td>2</td>" in html
    assert shown_controls(html) == set()


def test_the_figures_the_page_polls_are_the_apis_counts_and_never_cached(
    app: Flask, editor: FlaskClient
) -> None:
    digest_id, _ = planned_not_sent(app, 12)

    response = editor.get(f"/admin/digests/{digest_id}/progress.json")

    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    report = response.get_json()
    assert report["status"] == "sending" and report["status_label"] == "en cours d’envoi"
    assert report["ended"] is False and report["percent"] == 0
    api = digest_report(digest_id)
    assert api is not None
    assert {key: report["counts"][key] for key in api["counts"] if key != "other"} == {
        key: n for key, n in api["counts"].items() if key != "other"
    }
    assert report["controls"] == {"pause": True, "resume": False, "cancel": True}
    assert editor.get("/admin/digests/999999/progress.json").status_code == 404


def test_an_editor_pauses_and_resumes_a_sending_and_every_reader_gets_one_letter(
    app: Flask, editor: FlaskClient, smtp_sink: SmtpSink
) -> None:
    digest_id, emails = planned_not_sent(app, 20)
    page_url = f"/admin/digests/{digest_id}"
    html = editor.get(page_url).get_data(as_text=True)
    assert shown_controls(html) == {"pause", "cancel"}

    pause_url = f"{page_url}/pause"
    paused = editor.post(pause_url, data={"csrf_token": csrf_in(html, pause_url)})
    assert paused.status_code == 303 and paused.headers["Location"] == page_url
    html = editor.get(page_url).get_data(as_text=True)
    assert any(text.startswith("Envoi mis en pause") for text in flashes(html))
    assert 'data-live="status_label" role="status">en pause<' in html
    assert "mis en pause par chef@revue-internationale.example" in html
    assert shown_controls(html) == {"resume", "cancel"}
    assert smtp_sink.messages == []

    resume_url = f"{page_url}/resume"
    resumed = editor.post(resume_url, data={"csrf_token": csrf_in(html, resume_url)})
    html = editor.get(resumed.headers["Location"]).get_data(as_text=True)

    assert "Envoi repris : les lettres en attente partent." in flashes(html)
    assert Counter(r for m in smtp_sink.messages for r in m.rcpt_tos) == Counter(emails)
    report = editor.get(f"{page_url}/progress.json").get_json()
    assert report["status_label"] == "terminée" and report["percent"] == 100
    assert report["counts"]["sent"] == len(emails)


def test_a_control_that_no_longer_applies_is_a_french_message_not_an_error(
    app: Flask, editor: FlaskClient
) -> None:
    digest_id, _ = planned_not_sent(app, 3)
    page_url = f"/admin/digests/{digest_id}"
    html = editor.get(page_url).get_data(as_text=True)
    token = csrf_in(html, f"{page_url}/pause")

    resumed = editor.post(f"{page_url}/resume", data={"csrf_token": token})  # it is sending
    editor.post(f"{page_url}/cancel", data={"csrf_token": token})
    paused = editor.post(f"{page_url}/pause", data={"csrf_token": token}, follow_redirects=True)

    assert resumed.status_code == 303
    assert paused.status_code == 200
    assert "Impossible de mettre en pause cet envoi : l’édition est annulée." in flashes(
        paused.get_data(as_text=True)
    )
    again = editor.post(f"{page_url}/cancel", data={"csrf_token": token}, follow_redirects=True)
    assert "Impossible d’annuler cet envoi : l’édition est annulée." in flashes(
        again.get_data(as_text=True)
    )


def test_cancel_asks_first_then_stops_every_letter_not_yet_sent(
    app: Flask, editor: FlaskClient, smtp_sink: SmtpSink
) -> None:
    digest_id, _ = planned_not_sent(app, 8)
    page_url = f"/admin/digests/{digest_id}"
    assert f'href="{page_url}/cancel"' in editor.get(page_url).get_data(as_text=True)

    asked = editor.get(f"{page_url}/cancel").get_data(as_text=True)
    assert db.session.get(Digest, digest_id).status is DigestStatus.SENDING  # a GET only asks
    assert "Les 8 lettre(s) pas encore remises au serveur ne partiront pas" in asked
    cancel_url = f"{page_url}/cancel"
    done = editor.post(
        cancel_url, data={"csrf_token": csrf_in(asked, cancel_url)}, follow_redirects=True
    )

    html = done.get_data(as_text=True)
    assert "Envoi annulé : 8 lettre(s) ne partiront pas." in flashes(html)
    assert "annulée" in html and shown_controls(html) == set()
    assert smtp_sink.messages == []
    late = editor.get(f"{page_url}/cancel").get_data(as_text=True)
    assert "elle ne peut plus être annulée" in late and "Oui, annuler" not in late


def test_controls_need_the_forms_token_and_an_existing_edition(
    app: Flask, editor: FlaskClient
) -> None:
    digest_id, _ = planned_not_sent(app, 3)
    html = editor.get(f"/admin/digests/{digest_id}").get_data(as_text=True)
    token = csrf_in(html, f"/admin/digests/{digest_id}/pause")

    for action in ("pause", "resume", "cancel"):
        refused = editor.post(f"/admin/digests/{digest_id}/{action}")
        assert refused.status_code == 400, action
        assert (
            editor.post(f"/admin/digests/999999/{action}", data={"csrf_token": token}).status_code
            == 404
        )
    assert db.session.get(Digest, digest_id).status is DigestStatus.SENDING
    assert editor.get("/admin/digests/999999/cancel").status_code == 404


def test_the_console_pages_need_a_logged_in_editor(app: Flask, client: FlaskClient) -> None:
    digest_id, _ = planned_not_sent(app, 1)
    for path in ("/admin/digests", f"/admin/digests/{digest_id}/progress.json"):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert client.post(f"/admin/digests/{digest_id}/pause").status_code in {302, 400}
    assert db.session.get(Digest, digest_id).status is DigestStatus.SENDING


def test_what_editors_and_relays_wrote_shows_as_text(app: Flask, editor: FlaskClient) -> None:
    digest = edition(
        "special-2026-12-01-1",
        DigestKind.SPECIAL,
        status=DigestStatus.PAUSED,
        created_by=HOSTILE,
        pause_reason=HOSTILE,
    )
    rows(digest.id, DeliveryState.FAILED, 1, smtp_code=554, smtp_reply=HOSTILE)

    for path in (f"/admin/digests/{digest.id}", "/admin/digests", "/admin/"):
        html = editor.get(path).get_data(as_text=True)
        assert "<img src=x" not in html, path
    assert "&lt;img src=x onerror=alert(1)&gt;" in editor.get(
        f"/admin/digests/{digest.id}"
    ).get_data(as_text=True)
    report = editor.get(f"/admin/digests/{digest.id}/progress.json").get_json()
    assert report["pause_reason"] == HOSTILE  # JSON; the page's script writes it as text
