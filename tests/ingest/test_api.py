"""The editors' articles API: create or update with a bearer token, list by region and date."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from newsletter.admin.accounts import issue_token, save_editor
from newsletter.ingest.feeds import ingest_file
from tests.ingest.conftest import SAMPLE_FEED

NEW = {
    "url": "https://www.revue-internationale.example/2022/05/special/",
    "title": "Édition spéciale : le sommet de Madrid",
    "published_at": "2022-05-19T08:00:00+02:00",
    "summary": '<p>Le sommet <a href="/otan/">de l’OTAN</a>.<script>alert(1)</script></p>',
    "author": "La rédaction",
    "section": "Grand Angle",
    "regions": ["Union Européenne", "russie"],
    "tags": ["Sommet de Madrid"],
}


@pytest.fixture
def auth(app: Flask) -> dict[str, str]:
    save_editor("editor@example.com", "a long password")
    return {"Authorization": f"Bearer {issue_token('editor@example.com', name='tests')}"}


def _post(client: FlaskClient, auth: dict[str, str], body: Any) -> Any:
    return client.post("/api/v1/articles", json=body, headers=auth)


def test_an_editor_creates_an_article_with_clean_content(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    response = _post(client, auth, NEW)

    assert response.status_code == 201
    article = response.get_json()["article"]
    assert article["guid"] == NEW["url"]
    assert article["published_at"] == "2022-05-19T06:00:00+00:00"
    assert article["regions"] == ["union-europeenne", "russie"]
    assert article["section"] == "grand-angle"
    assert article["lead"] == "Le sommet de l’OTAN."
    assert "script" not in article["summary"]
    assert 'href="https://www.revue-internationale.example/otan/"' in article["summary"]


def test_posting_again_with_a_new_title_updates_the_same_article(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    _post(client, auth, NEW)

    same = _post(client, auth, NEW)
    edited = _post(client, auth, {**NEW, "title": "Le sommet de Madrid"})
    listed = client.get("/api/v1/articles", headers=auth).get_json()["articles"]

    assert (same.status_code, same.get_json()["outcome"]) == (200, "unchanged")
    assert (edited.status_code, edited.get_json()["outcome"]) == (200, "updated")
    assert [a["title"] for a in listed] == ["Le sommet de Madrid"]


def test_invalid_input_answers_422_field_by_field(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    response = _post(
        client,
        auth,
        {
            "url": "javascript:alert(1)",
            "published_at": "2022-05-19 08:00",
            "section": "Sport",
            "regions": ["Europe de l'Est", "Asie"],
            "tags": "not a list",
            "color": "red",
        },
    )

    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "color": ["unknown field"],
        "url": ["must be an absolute http(s) URL"],
        "title": ["required"],
        "published_at": ["must include a time zone (Z or +hh:mm)"],
        "section": ["one of: grand-angle, idees, en-continu"],
        "regions": ["unknown region: Europe de l'Est"],
        "tags": ["must be a list of strings"],
    }
    not_an_object = client.post("/api/v1/articles", json=["x"], headers=auth)
    assert not_an_object.status_code == 422
    assert not_an_object.get_json()["errors"] == {"body": ["expected a JSON object"]}
    not_json = client.post("/api/v1/articles", data="x", headers=auth)
    assert not_json.status_code == 415
    assert not_json.get_json()["error"] == "unsupported-media-type"


def test_listing_filters_by_region_and_since(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    ingest_file(SAMPLE_FEED)

    russia = client.get("/api/v1/articles?region=russie&since=2022-04-01", headers=auth)

    assert russia.status_code == 200
    assert [a["title"] for a in russia.get_json()["articles"]] == [
        "Fin de la bataille d’Azovstal",
        "Vers une adhésion de la Suède et la Finlande à l’Otan ?",
        "Ukraine : l’OTAN prête pour une guerre d’usure",
    ]
    everything = client.get("/api/v1/articles?limit=2", headers=auth).get_json()["articles"]
    assert [a["published_at"] for a in everything] == [
        "2022-05-18T09:30:00+00:00",
        "2022-05-18T07:15:00+00:00",
    ]


def test_articles_awaiting_a_region_are_listed_with_region_none(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    _post(client, auth, {**NEW, "regions": []})
    _post(client, auth, {**NEW, "url": NEW["url"] + "2/", "title": "Autre"})

    waiting = client.get("/api/v1/articles?region=none", headers=auth).get_json()["articles"]

    assert [(a["title"], a["needs_region"]) for a in waiting] == [(NEW["title"], True)]


def test_bad_filters_answer_422_field_by_field(client: FlaskClient, auth: dict[str, str]) -> None:
    response = client.get("/api/v1/articles?region=mars&since=hier&limit=0", headers=auth)

    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "region": ["unknown region slug"],
        "since": ["must be an ISO 8601 date or date-time"],
        "limit": ["a whole number from 1 to 500"],
    }


def test_the_api_needs_an_editors_bearer_token(client: FlaskClient) -> None:
    assert client.post("/api/v1/articles", json=NEW).status_code == 401
    wrong = {"Authorization": "Bearer not-a-token"}
    assert client.get("/api/v1/articles", headers=wrong).status_code == 401


def test_an_editor_registers_a_feed_and_sees_its_state(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    url = "https://www.revue-internationale.example/feed/"

    created = client.post("/api/v1/feeds", json={"url": url}, headers=auth)
    again = client.post("/api/v1/feeds", json={"url": url}, headers=auth)
    bad = client.post("/api/v1/feeds", json={"url": "file:///etc/passwd"}, headers=auth)
    missing = client.post("/api/v1/feeds", json={}, headers=auth)
    listed = client.get("/api/v1/feeds", headers=auth).get_json()["feeds"]

    assert created.status_code == 201 and again.status_code == 200
    assert bad.status_code == 422
    assert bad.get_json()["errors"] == {"url": ["must be an absolute http(s) URL"]}
    assert missing.get_json()["errors"] == {"url": ["required"]}
    assert [(f["url"], f["active"], f["last_error"]) for f in listed] == [(url, True, None)]
