"""Manage links expire after MANAGE_LINK_DAYS and are renewed by email; unsubscribe links never."""

from __future__ import annotations

import time

from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from newsletter.models import Region, Subscriber, SubscriberStatus, db
from newsletter.subscriptions import tokens
from tests.subscriptions.conftest import csrf_token, link_in, page_text
from tests.support.smtp import SmtpSink

DAY = 86400


def a_reader() -> Subscriber:
    regions = db.session.execute(db.select(Region).where(Region.slug == "asie")).scalars()
    reader = Subscriber(
        email="lea@example.org", status=SubscriberStatus.CONFIRMED, regions=list(regions)
    )
    db.session.add(reader)
    db.session.commit()
    return reader


def signed_ago(app: Flask, purpose: tokens.Purpose, reader_id: int, seconds: int) -> str:
    """A genuine link as an email sent `seconds` ago carries it."""

    class Backdated(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds

    serializer = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt=purpose.value, signer=Backdated
    )
    return str(serializer.dumps({"sid": reader_id, "lid": "ri"}))


def local(url: str) -> str:
    return url.removeprefix("http://newsletter.test")


def test_a_fresh_manage_link_shows_the_preferences_and_the_data_download(
    client: FlaskClient,
) -> None:
    reader = a_reader()
    manage = local(tokens.reader_links(reader.id).manage_url)
    page = client.get(manage)
    assert page.status_code == 200
    assert "Vos préférences" in page_text(page)
    assert f'href="{manage}/data.json"' in page.get_data(as_text=True)
    export = client.get(manage + "/data.json")
    assert export.status_code == 200
    assert export.get_json()["email"] == "lea@example.org"


def test_an_expired_manage_link_offers_a_new_one_and_changes_nothing(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    reader = a_reader()
    days = app.config["MANAGE_LINK_DAYS"]
    old = f"/manage/{signed_ago(app, tokens.Purpose.MANAGE, reader.id, (days + 1) * DAY)}"

    page = client.get(old)
    assert page.status_code == 410
    assert "Ce lien a expiré" in page_text(page)
    assert f"valables {days} jours" in page_text(page)
    assert "lea@example.org" not in page_text(page)  # an old link no longer shows the address
    assert client.get(old + "/data.json").status_code == 410
    saved = client.post(
        old, data={"csrf_token": csrf_token(client, "/"), "regions": ["russie"], "language": "en"}
    )
    assert saved.status_code == 410
    db.session.remove()
    reader = db.session.get(Subscriber, reader.id)
    assert reader is not None and (reader.region_slugs, reader.language) == (["asie"], "fr")
    assert smtp_sink.messages == []  # the page alone sends nothing


def test_renewing_an_expired_manage_link_mails_one_that_works(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    reader = a_reader()
    old = f"/manage/{signed_ago(app, tokens.Purpose.MANAGE, reader.id, 61 * DAY)}"

    sent = client.post(old + "/renew", data={"csrf_token": csrf_token(client, old)})
    assert sent.status_code == 200
    assert "Vérifiez votre boîte de réception" in page_text(sent)
    (mail,) = smtp_sink.wait_for("lea@example.org")
    assert mail.message["Subject"] == "Votre lien vers vos préférences de newsletter"
    html = mail.message.get_body(preferencelist=("html",)).get_content()
    assert "Gérer mes préférences" in html and "/manage/" in html
    fresh = local(link_in(mail, "/manage"))
    assert client.get(fresh).status_code == 200
    assert client.get(fresh + "/data.json").get_json()["email"] == "lea@example.org"


def test_renewing_is_silent_over_the_addresss_mail_cap(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    reader = a_reader()
    app.config["ADDRESS_MAIL_LIMIT"] = "1 per day"
    old = f"/manage/{signed_ago(app, tokens.Purpose.MANAGE, reader.id, 61 * DAY)}"
    token = csrf_token(client, old)

    first = client.post(old + "/renew", data={"csrf_token": token})
    second = client.post(old + "/renew", data={"csrf_token": token})

    assert first.status_code == second.status_code == 200
    assert page_text(first) == page_text(second)
    assert len(smtp_sink.to("lea@example.org")) == 1


def test_renewing_needs_the_forms_token_and_a_genuine_link(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    reader = a_reader()
    old = f"/manage/{signed_ago(app, tokens.Purpose.MANAGE, reader.id, 61 * DAY)}"
    assert client.post(old + "/renew").status_code == 400
    forged = client.post("/manage/not-a-token/renew", data={"csrf_token": csrf_token(client)})
    assert forged.status_code == 400
    assert smtp_sink.messages == []


def test_a_two_day_old_link_manages_but_does_not_export(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    reader = a_reader()
    manage = f"/manage/{signed_ago(app, tokens.Purpose.MANAGE, reader.id, 2 * DAY)}"

    page = client.get(manage)
    assert page.status_code == 200
    assert "data.json" not in page.get_data(as_text=True)
    assert "il faut un lien de moins d'un jour" in page_text(page)

    export = client.get(manage + "/data.json")
    assert export.status_code == 403
    assert export.mimetype == "text/html"
    assert "Content-Disposition" not in export.headers
    assert "il faut un lien de moins d'un jour" in page_text(export)
    assert f'action="{manage}/renew"' in export.get_data(as_text=True)


def test_an_unsubscribe_link_ten_years_old_still_unsubscribes(
    app: Flask, client: FlaskClient
) -> None:
    reader = a_reader()
    url = f"/unsubscribe/{signed_ago(app, tokens.Purpose.UNSUBSCRIBE, reader.id, 3653 * DAY)}"
    assert client.get(url).status_code == 200
    response = app.test_client().post(url, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "Vous êtes désinscrit" in page_text(response)
    db.session.remove()
    assert db.session.get(Subscriber, reader.id).status == SubscriberStatus.UNSUBSCRIBED
