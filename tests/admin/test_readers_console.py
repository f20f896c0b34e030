"""Readers in the console, for admins: the list with its filters and pages, a reader's record
(consent history, deliveries), unsubscribe, erase, lift a suppression, and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from werkzeug.test import TestResponse

from newsletter.admin.readers_search import PAGE_SIZE
from newsletter.models import (
    ConsentEvent,
    ConsentKind,
    Delivery,
    DeliveryState,
    Region,
    Subscriber,
    SubscriberStatus,
    Suppression,
    SuppressionReason,
    db,
    utcnow,
)
from newsletter.models.editor import AuditEntry
from newsletter.subscriptions.addresses import email_hmac
from tests.delivery.seed import seed_digest
from tests.support.roles import ADMIN, EDITOR, logged_in, page_token

HOSTILE = '"><img src=x onerror=alert(1)>'


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    return logged_in(app, ADMIN, admin=True)


def add_reader(
    email: str,
    *,
    name: str | None = None,
    status: SubscriberStatus = SubscriberStatus.CONFIRMED,
    regions: tuple[str, ...] = ("afrique",),
    language: str = "fr",
    age_days: int = 0,
) -> Subscriber:
    reader = Subscriber(
        email=email,
        name=name,
        status=status,
        language=language,
        created_at=utcnow() - timedelta(days=age_days),
        regions=list(
            db.session.execute(db.select(Region).where(Region.slug.in_(regions))).scalars()
        ),
    )
    db.session.add(reader)
    db.session.commit()
    return reader


def page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def post(client: FlaskClient, path: str, page_path: str) -> TestResponse:
    return client.post(path, data={"csrf_token": page_token(client, page_path)})


def audit_actions() -> list[tuple[str, str]]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(AuditEntry.action, AuditEntry.detail).order_by(AuditEntry.id)
    )
    return [(action, detail) for action, detail in rows]


def test_an_editor_gets_403_on_every_readers_route(app: Flask) -> None:
    reader = add_reader("lecteur@example.org")
    editor = logged_in(app, EDITOR, admin=False)
    token = page_token(editor, "/admin/me")
    base = f"/admin/readers/{reader.id}"
    for path in ("/admin/readers", "/admin/readers/export.csv", base, f"{base}/erase"):
        response = editor.get(path)
        assert response.status_code == 403, path
        assert "Accès réservé aux administrateurs" in response.get_data(as_text=True)
    for action in ("unsubscribe", "erase", "unsuppress"):
        response = editor.post(f"{base}/{action}", data={"csrf_token": token})
        assert response.status_code == 403, action
    db.session.expire_all()
    assert db.session.get(Subscriber, reader.id).status is SubscriberStatus.CONFIRMED


def test_the_menu_shows_lecteurs_to_an_admin_only(app: Flask, admin: FlaskClient) -> None:
    assert ">Lecteurs</a>" in page(admin, "/admin/")
    editor = logged_in(app, EDITOR, admin=False)
    assert ">Lecteurs</a>" not in page(editor, "/admin/")


def test_the_list_searches_by_address_and_filters_by_status_region_and_language(
    admin: FlaskClient,
) -> None:
    add_reader("alice@exemple.fr", name="Alice", regions=("asie",))
    add_reader("bob@example.org", status=SubscriberStatus.UNSUBSCRIBED, language="en")
    add_reader("carla@exemple.fr", status=SubscriberStatus.BOUNCED, regions=("russie",))

    everyone = page(admin, "/admin/readers")
    assert "3 lecteurs" in everyone
    assert "désabonné" in everyone and "adresse en échec" in everyone
    assert "Asie" in everyone and "anglais" in everyone

    by_address = page(admin, "/admin/readers?q=EXEMPLE.fr")
    assert "alice@exemple.fr" in by_address and "carla@exemple.fr" in by_address
    assert "bob@example.org" not in by_address

    def only(query: str) -> set[str]:
        found = page(admin, f"/admin/readers?{query}")
        return {e for e in ("alice@", "bob@", "carla@") if e in found}

    assert only("statut=unsubscribed") == {"bob@"}
    assert only("region=russie") == {"carla@"}
    assert only("langue=en") == {"bob@"}
    assert only("q=%25") == set()  # a LIKE wildcard is a plain character


def test_malformed_parameters_are_ignored_with_a_french_note(admin: FlaskClient) -> None:
    add_reader("alice@exemple.fr")
    shown = page(admin, "/admin/readers?statut=zzz&region=mars&langue=xx&page=-3")
    assert "alice@exemple.fr" in shown
    for note in ("Statut inconnu", "Région inconnue", "Langue inconnue", "Numéro de page"):
        assert note in shown
    assert page(admin, "/admin/readers?page=99999").count("<tr>") == 2  # header + "aucun"


def test_the_list_shows_50_a_page_newest_first(admin: FlaskClient) -> None:
    for i in range(PAGE_SIZE + 1):
        add_reader(f"r{i:02}@example.org", age_days=i)
    first = page(admin, "/admin/readers")
    assert "51 lecteurs, page 1 sur 2" in first
    assert first.index("r00@") < first.index("r01@")
    assert "r50@" not in first
    second = page(admin, "/admin/readers?page=2")
    assert "r50@" in second and "r00@" not in second


def test_the_readers_page_shows_consent_history_and_deliveries(admin: FlaskClient) -> None:
    reader = add_reader("alice@exemple.fr", name="Alice", regions=("asie", "russie"))
    db.session.add_all(
        [
            ConsentEvent(
                subscriber_id=reader.id, kind=ConsentKind.SUBSCRIBE, source="form", ip="203.0.113.7"
            ),
            ConsentEvent(subscriber_id=reader.id, kind=ConsentKind.CONFIRM, source="email"),
        ]
    )
    digest_id = seed_digest("special-2026-12-01-7")
    db.session.add(
        Delivery(
            digest_id=digest_id, subscriber_id=reader.id, state=DeliveryState.SENT, sent_at=utcnow()
        )
    )
    db.session.commit()

    shown = page(admin, f"/admin/readers/{reader.id}")
    assert "Russie, Asie" in shown
    assert "inscription" in shown and "203.0.113.7" in shown and "confirmation" in shown
    assert "Édition spéciale du 1ᵉʳ décembre 2026" in shown
    assert f'href="/admin/digests/{digest_id}"' in shown
    assert "envoyée" in shown
    assert admin.get("/admin/readers/999999").status_code == 404


def test_an_admin_unsubscribes_a_reader_and_the_log_says_so(admin: FlaskClient) -> None:
    reader = add_reader("alice@exemple.fr")
    path = f"/admin/readers/{reader.id}"
    response = post(admin, f"{path}/unsubscribe", path)
    assert response.status_code == 303
    shown = page(admin, path)
    assert "Lecteur désabonné : alice@exemple.fr" in shown
    assert "Désabonner</button>" not in shown
    db.session.expire_all()
    assert db.session.get(Subscriber, reader.id).status is SubscriberStatus.UNSUBSCRIBED
    event = db.session.execute(
        sa.select(ConsentEvent).where(ConsentEvent.kind == ConsentKind.UNSUBSCRIBE)
    ).scalar_one()
    assert event.source == f"console:{ADMIN}"
    assert audit_actions() == [("reader_unsubscribed", f"lecteur {reader.id}")]


def test_erasing_asks_first_then_removes_the_reader_and_keeps_a_suppression(
    admin: FlaskClient,
) -> None:
    reader = add_reader("alice@exemple.fr")
    path = f"/admin/readers/{reader.id}"
    confirm = page(admin, f"{path}/erase")
    assert "irréversible" in confirm and "Oui, effacer ce lecteur" in confirm
    db.session.expire_all()
    assert db.session.get(Subscriber, reader.id) is not None  # the GET changed nothing

    response = post(admin, f"{path}/erase", f"{path}/erase")
    assert response.status_code == 303
    assert "Lecteur effacé" in page(admin, "/admin/readers")
    db.session.expire_all()
    assert db.session.get(Subscriber, reader.id) is None
    kept = db.session.get(Suppression, email_hmac("alice@exemple.fr"))
    assert kept is not None and kept.reason is SuppressionReason.ERASED
    assert audit_actions() == [("reader_erased", f"lecteur {reader.id}")]
    assert admin.get(path).status_code == 404


def test_an_admin_lifts_a_suppression(admin: FlaskClient) -> None:
    reader = add_reader("carla@exemple.fr", status=SubscriberStatus.BOUNCED)
    db.session.add(
        Suppression(email_hmac=email_hmac(reader.email), reason=SuppressionReason.HARD_BOUNCE)
    )
    db.session.commit()
    path = f"/admin/readers/{reader.id}"
    assert "Lever le blocage</button>" in page(admin, path)
    assert post(admin, f"{path}/unsuppress", path).status_code == 303
    shown = page(admin, path)
    assert "Blocage levé" in shown and "Lever le blocage</button>" not in shown
    db.session.expire_all()
    assert db.session.get(Suppression, email_hmac(reader.email)) is None
    assert db.session.get(Subscriber, reader.id).status is SubscriberStatus.UNSUBSCRIBED
    assert audit_actions() == [("suppression_lifted", f"lecteur {reader.id}")]


def test_every_post_without_csrf_is_refused(admin: FlaskClient) -> None:
    reader = add_reader("alice@exemple.fr", status=SubscriberStatus.BOUNCED)
    db.session.add(
        Suppression(email_hmac=email_hmac(reader.email), reason=SuppressionReason.HARD_BOUNCE)
    )
    db.session.commit()
    for action in ("unsubscribe", "unsuppress", "erase"):
        response = admin.post(f"/admin/readers/{reader.id}/{action}")
        assert response.status_code == 400, action
    db.session.expire_all()
    assert db.session.get(Subscriber, reader.id).status is SubscriberStatus.BOUNCED
    assert db.session.get(Suppression, email_hmac(reader.email)) is not None
    assert audit_actions() == []


def test_a_hostile_name_shows_as_text_and_the_export_neutralises_formulas(
    admin: FlaskClient,
) -> None:
    reader = add_reader("alice@exemple.fr", name=HOSTILE)
    add_reader("bob@example.org", name='=HYPERLINK("http://x")')
    for path in ("/admin/readers", f"/admin/readers/{reader.id}"):
        shown = page(admin, path)
        assert HOSTILE not in shown
        assert str(escape(HOSTILE)) in shown
    rows = exported(admin, "/admin/readers/export.csv")
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]
    assert any(HOSTILE[1:] in cell for cell in cells)


def exported(client: FlaskClient, path: str) -> list[list[str]]:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_export_downloads_the_readers_of_the_chosen_status(admin: FlaskClient) -> None:
    add_reader("alice@exemple.fr", regions=("asie", "russie"))
    add_reader("bob@example.org", status=SubscriberStatus.UNSUBSCRIBED, language="en")
    listed = page(admin, "/admin/readers?statut=confirmed")
    assert 'href="/admin/readers/export.csv?statut=confirmed"' in listed
    assert "Exporter en CSV" in listed

    header, *rows = exported(admin, "/admin/readers/export.csv?statut=confirmed")
    assert header[:4] == ["email", "name", "regions", "language"]
    assert [row[:4] for row in rows] == [["alice@exemple.fr", "", "russie;asie", "fr"]]
    everyone = exported(admin, "/admin/readers/export.csv")[1:]
    assert sorted(row[0] for row in everyone) == ["alice@exemple.fr", "bob@example.org"]
