"""Every malformed request is a 4xx, never a 500: generated requests on every API and webhook
route and on the subscription form, then one test per case that used to fail."""

from __future__ import annotations

import io
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import encode_multipart

from newsletter.delivery.webhooks import MAX_BODY, SIGNATURE_HEADER, signature
from newsletter.models import Article, Digest, DigestKind, Editor, Subscriber, db
from tests.support.editors import log_in_editor
from tests.support.smtp import SmtpSink

SECRET = "malformed-requests-webhook-key"
BOUNCES = Path(__file__).resolve().parent / "fixtures" / "bounces"
BIG = 2**64
INT64_MAX = 2**63 - 1
# One app per test, shared by its examples on purpose (building one costs ~100 ms): each
# example starts from a clean database session, and none depends on what an earlier one left.
FUZZ = settings(
    max_examples=int(os.environ.get("MALFORMED_EXAMPLES", "200")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    # Rate limits would answer 429 after five requests and hide every other path.
    return {"RATELIMIT_ENABLED": False, "BOUNCE_WEBHOOK_SECRET": SECRET, "SMTP_URL": smtp_sink.url}


@pytest.fixture
def token(app: Flask) -> str:
    editor = Editor(email="redaction@example.org", password_hash="!")  # no login: no hashing
    db.session.add(editor)
    value = editor.new_token("tests")
    db.session.commit()
    return value


@pytest.fixture
def digest_id(app: Flask) -> int:
    """A stored digest, so generated ids reach a real one too (not planned: nothing to send)."""
    digest = Digest(
        edition_key="special-2022-05-31-1",
        kind=DigestKind.SPECIAL,
        window_start=datetime(2022, 5, 1, tzinfo=UTC),
        window_end=datetime(2022, 5, 31, tzinfo=UTC),
    )
    db.session.add(digest)
    db.session.commit()
    return digest.id


def _rules(app: Flask) -> list[tuple[str, str]]:
    """(rule, method) for every route under /api/ and /webhooks/, every method it accepts."""
    return sorted(
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/api/", "/webhooks/"))
        for method in rule.methods or ()
    )


# --- what requests are made of -------------------------------------------------------------

FIELDS = [
    "email", "name", "regions", "language", "website", "url", "guid", "title", "summary",
    "author", "section", "tags", "image_url", "published_at", "kind", "since", "until",
    "intro", "pinned_article_id", "request_key", "message_ids", "events", "type",
]  # fmt: skip
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=INT64_MAX - 2, max_value=BIG * BIG)
    | st.floats()
    | st.text(max_size=40)
    | st.sampled_from(["asie", "2022-05-31", "0001-01-01T00:00:00+01:00", "9999-12-31", "\x00"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=6)
    ),
    max_leaves=25,
)
deep = st.integers(min_value=15, max_value=3000).map(lambda n: "[" * n + "]" * n)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6).map(
        lambda value: json.dumps(value).encode()
    ),
    deep.map(str.encode),
    st.just(b'{"email": "a@example.org", "n": ' + b"9" * 5000 + b"}"),
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-16",
        "application/problem+json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=zz",
        "message/rfc822",
        "",
        "json/;;;=",
    ]
)
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=60)
query_names = st.sampled_from(["region", "since", "limit", "until", "digest", "x"]) | header_text
queries = st.one_of(
    st.dictionaries(query_names, st.text(max_size=40) | st.just(str(BIG)), max_size=4),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
)
ids = st.one_of(
    st.just("{digest}"),
    st.integers(min_value=0, max_value=BIG * BIG).map(str),
    st.integers(min_value=2**31 - 2, max_value=2**31 + 1).map(str),
    st.sampled_from([str(INT64_MAX), str(INT64_MAX + 1), "0" * 30 + "1", "9" * 5000]),
)


def _authorization(token: str) -> st.SearchStrategy[dict[str, str]]:
    """Mostly a live editor's token: without one every route stops at 401."""
    live = st.just({"Authorization": f"Bearer {token}"})
    return st.one_of(
        live,
        live,
        st.just({}),
        header_text.map(lambda text: {"Authorization": text}),
        header_text.map(lambda text: {"Authorization": f"Bearer {text}"}),
    )


def _length(body: bytes) -> st.SearchStrategy[dict[str, str]]:
    """The declared Content-Length: the true one, or one that lies."""
    lengths = ["0", "-1", "x", str(len(body) + 10), str(max(0, len(body) - 1))]
    return st.just({}) | st.sampled_from(lengths).map(lambda n: {"CONTENT_LENGTH": n})


# --- the property --------------------------------------------------------------------------


def test_no_generated_request_to_the_api_or_the_webhook_is_a_server_error(
    app: Flask, client: FlaskClient, token: str, digest_id: int
) -> None:
    routes = _rules(app)
    assert len(routes) > 30  # every API route, with HEAD and OPTIONS

    @FUZZ
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        db.session.rollback()
        rule, method = data.draw(st.sampled_from(routes), label="route")
        segment = data.draw(ids, label="id").replace("{digest}", str(digest_id))
        path = re.sub(r"<[^>]+>", segment, rule)
        body = data.draw(bodies, label="body")
        headers = data.draw(_authorization(token), label="authorization")
        if data.draw(st.booleans(), label="signed"):
            headers[SIGNATURE_HEADER] = signature(SECRET, body)
        response = client.open(
            path,
            method=method,
            data=body,
            content_type=data.draw(content_types, label="content type"),
            query_string=data.draw(queries, label="query"),
            headers=headers,
            environ_overrides=data.draw(_length(body), label="length"),
        )
        assert response.status_code < 500, (method, path, response.get_data()[:500])

    check()


def _csrf(client: FlaskClient) -> str:
    g.pop("csrf_token", None)
    page = client.get("/").get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match
    return match.group(1)


form_values = st.one_of(
    st.text(max_size=60),
    st.text(max_size=3).map(lambda text: text * 400),
    st.sampled_from(["lea@example.org", "asie", "fr", "en", "Léa\r\nBcc: x@example.org"]),
)


def test_no_generated_subscription_form_is_a_server_error_nor_echoes_a_long_value(
    app: Flask, client: FlaskClient
) -> None:
    token = _csrf(client)

    @FUZZ
    @given(
        fields=st.dictionaries(
            st.sampled_from(["email", "name", "regions", "language", "website"]) | header_text,
            st.lists(form_values, max_size=3),
            max_size=6,
        ),
        with_token=st.booleans(),
        query=queries,
    )
    def check(fields: dict[str, list[str]], with_token: bool, query: Any) -> None:
        db.session.rollback()
        data: dict[str, Any] = {**fields, **({"csrf_token": token} if with_token else {})}
        response = client.post("/", data=data, query_string=query)
        assert response.status_code < 500, (data, response.get_data()[:500])
        page = response.get_data(as_text=True)
        for value in (v for values in fields.values() for v in values):
            if len(value) > 254:
                assert value not in page

    check()


# --- the cases found, one by one -----------------------------------------------------------


def _nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


def test_deeply_nested_json_to_the_public_subscription_api_is_a_400(client: FlaskClient) -> None:
    for depth in (21, 5000):
        body = '{"email": "lea@example.org", "regions": ["asie"], "x": ' + _nested(depth) + "}"
        response = client.post("/api/v1/subscriptions", data=body, content_type="application/json")
        assert response.status_code == 400
        assert response.json == {
            "error": "invalid-json",
            "message": "nested deeper than 20 levels",
        }
    assert db.session.execute(db.select(Subscriber)).first() is None


def test_json_nested_within_the_limit_is_still_accepted(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    body = '{"email": "lea@example.org", "regions": ["asie"], "x": ' + _nested(18) + "}"
    response = client.post("/api/v1/subscriptions", data=body, content_type="application/json")
    assert response.status_code == 202
    assert smtp_sink.wait_for("lea@example.org")


def test_invalid_json_is_a_400_and_a_body_not_declared_json_a_415(
    client: FlaskClient, token: str
) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    invalid = client.post("/api/v1/subscriptions", data="{", content_type="application/json")
    undeclared = client.post("/api/v1/subscriptions", data='{"email": "lea@example.org"}')
    article = client.post("/api/v1/articles", data=b"\xff\xfe{", headers=auth,
                          content_type="application/json")  # fmt: skip

    assert invalid.status_code == 400 and invalid.json["error"] == "invalid-json"
    assert undeclared.status_code == 415 and undeclared.json["error"] == "unsupported-media-type"
    assert article.status_code == 400 and article.json["error"] == "invalid-json"


def test_numbers_no_column_can_hold_are_a_400(client: FlaskClient, token: str) -> None:
    outside = "an integer is outside the signed 64-bit range"
    for number, message in [
        (str(BIG), outside),
        ("-" + str(BIG), outside),
        ("9" * 5000, outside),
        ("1e400", "a number is too large to be represented"),
        ("NaN", "NaN is not a JSON number"),
        ("-Infinity", "-Infinity is not a JSON number"),
    ]:
        response = client.post(
            "/api/v1/digests",
            data='{"pinned_article_id": ' + number + "}",
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 400
        assert response.json == {"error": "invalid-json", "message": message}
    assert db.session.execute(db.select(Digest)).first() is None


def test_a_pinned_article_id_out_of_the_columns_range_is_a_422_naming_it(
    client: FlaskClient, token: str
) -> None:
    for pinned in (2**31, INT64_MAX, 0, -1):
        response = client.post(
            "/api/v1/digests",
            json={"pinned_article_id": pinned},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 422
        assert list(response.json["errors"]) == ["pinned_article_id"]
    assert db.session.execute(db.select(Digest)).first() is None


def test_ids_beyond_any_row_in_urls_are_a_404(client: FlaskClient, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    log_in_editor(client)
    for number in (2**31, INT64_MAX, INT64_MAX + 1, BIG, 10**40):
        for path in (f"/api/v1/digests/{number}", f"/api/v1/digests/{number}/delivery"):
            response = client.get(path, headers=auth)
            assert response.status_code == 404
            assert response.json["error"] in {"not-found", "not_found"}
        assert client.post(f"/api/v1/digests/{number}/pause", headers=auth).status_code == 404
        assert client.get(f"/admin/digests/{number}").status_code == 404


def test_a_body_over_the_limit_is_a_413_in_json_on_the_api_and_a_page_elsewhere(
    client: FlaskClient,
) -> None:
    ten_mb = json.dumps({"email": "lea@example.org", "regions": ["asie"], "x": "y" * 10_000_000})

    api = client.post("/api/v1/subscriptions", data=ten_mb, content_type="application/json")
    form = client.post("/", data={"name": "y" * 2_000_000})

    assert api.status_code == 413
    assert api.json == {
        "error": "too-large",
        "message": "the request body is larger than 1048576 bytes",
    }
    assert form.status_code == 413
    assert "Votre envoi est trop volumineux" in form.get_data(as_text=True)
    assert db.session.execute(db.select(Subscriber)).first() is None


@pytest.mark.parametrize("field", ["name", "email"])
def test_a_1_mb_form_field_is_a_400_that_does_not_echo_it(client: FlaskClient, field: str) -> None:
    values = {"email": "lea@example.org", "name": "Léa", field: "x" * 1_000_000}
    data = {"csrf_token": _csrf(client), "regions": ["asie"], "language": "fr", **values}

    response = client.post("/", data=data)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert len(page) < 20_000
    assert "x" * 300 not in page
    assert "trop long" in page or "adresse email valide" in page
    assert db.session.execute(db.select(Subscriber)).first() is None


ARTICLE = {
    "url": "https://www.revue-internationale.example/2022/05/sommet/",
    "title": "Le sommet de Madrid",
    "published_at": "2022-05-19T08:00:00+02:00",
}


def test_a_9_mb_summary_is_refused_whole_and_nothing_is_stored(
    client: FlaskClient, token: str
) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    response = client.post("/api/v1/articles", json={**ARTICLE, "summary": "x" * 9_000_000},
                           headers=auth)  # fmt: skip
    assert response.status_code == 413
    assert db.session.execute(db.select(Article)).first() is None


@pytest.mark.parametrize("app_overrides", [{"MAX_REQUEST_BYTES": 16_000_000}])
def test_a_9_mb_summary_is_a_422_naming_it_even_where_bodies_may_be_larger(
    client: FlaskClient, token: str, app_overrides: dict[str, Any]
) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    huge = client.post("/api/v1/articles", json={**ARTICLE, "summary": "x" * 9_000_000},
                       headers=auth)  # fmt: skip
    fits = client.post("/api/v1/articles", json={**ARTICLE, "summary": "x" * 10_000},
                       headers=auth)  # fmt: skip

    assert huge.status_code == 422
    assert huge.json["errors"] == {"summary": ["at most 10000 characters"]}
    assert fits.status_code == 201


def test_article_and_feed_fields_longer_than_their_columns_are_422_naming_them(
    client: FlaskClient, token: str
) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    long_url = "https://www.revue-internationale.example/" + "a" * 3000
    article = client.post(
        "/api/v1/articles",
        json={**ARTICLE, "title": "t" * 501, "author": "a" * 201, "tags": ["x"] * 51},
        headers=auth,
    )
    feed = client.post("/api/v1/feeds", json={"url": long_url}, headers=auth)

    assert article.status_code == 422
    assert set(article.json["errors"]) == {"title", "author", "tags"}
    assert feed.status_code == 422
    assert feed.json["errors"] == {"url": ["at most 2000 characters"]}


def test_bad_query_parameters_are_a_422_naming_them(client: FlaskClient, token: str) -> None:
    for query, field in [
        ("since=0001-01-01T00:00:00%2B01:00", "since"),
        ("since=9999-12-31T23:00:00-05:00", "since"),
        ("limit=%C2%B2", "limit"),
        ("limit=" + "9" * 5000, "limit"),
    ]:
        auth = {"Authorization": f"Bearer {token}"}
        response = client.get(f"/api/v1/articles?{query}", headers=auth)
        assert response.status_code == 422
        assert list(response.json["errors"]) == [field]


def test_a_nul_in_the_query_string_is_a_400(client: FlaskClient, token: str) -> None:
    api = client.get("/api/v1/articles?region=%00", headers={"Authorization": f"Bearer {token}"})
    page = client.get("/?lang=%00")
    assert (api.status_code, api.json["error"]) == (400, "bad-request")
    assert page.status_code == 400


def test_dates_out_of_range_in_a_digest_request_are_a_400(client: FlaskClient, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    for since in ("0001-01-01", "0001-01-01T00:00:00+01:00"):
        response = client.post("/api/v1/digests", json={"since": since}, headers=auth)
        assert response.status_code == 400
        assert response.json["error"] == "invalid"


def test_the_webhook_refuses_json_beyond_the_limits_and_still_takes_a_large_dsn(
    client: FlaskClient,
) -> None:
    def post(body: bytes, content_type: str) -> Any:
        headers = {SIGNATURE_HEADER: signature(SECRET, body)}
        return client.post("/webhooks/bounces", data=body, content_type=content_type,
                           headers=headers)  # fmt: skip

    deep = post(('{"events": ' + _nested(30) + "}").encode(), "application/json")
    huge_int = post(b'{"type": "bounce", "email": "a@example.org", "n": 1' + b"0" * 30 + b"}",
                    "application/json")  # fmt: skip
    dsn = (BOUNCES / "dsn-hard-5.1.1.eml").read_bytes()
    # A DSN with the whole original message attached: larger than MAX_REQUEST_BYTES.
    large_dsn = post(dsn + b"\n" + b"x" * 1_500_000, "message/rfc822")
    too_large = post(b"x" * (MAX_BODY + 1), "message/rfc822")

    assert (deep.status_code, deep.json["error"]) == (400, "junk")
    assert "nested deeper than 20 levels" in deep.json["reason"]
    assert (huge_int.status_code, huge_int.json["error"]) == (400, "junk")
    assert large_dsn.status_code != 413 and large_dsn.status_code < 500
    assert too_large.status_code == 413


def test_a_saved_page_larger_than_the_request_limit_can_still_be_uploaded(
    client: FlaskClient,
) -> None:
    log_in_editor(client)
    g.pop("csrf_token", None)
    page = client.get("/admin/articles").get_data(as_text=True)
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page)
    assert token
    html = b"<html><head><title>Grand format</title></head><body><p>" + b"x" * 2_000_000
    # Encoded here, in memory: the test client would spool it to a file it never closes.
    fields = {"csrf_token": token.group(1), "url": "", "page": (io.BytesIO(html), "grand.html")}
    boundary, body = encode_multipart(fields)

    response = client.post(
        "/admin/articles/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )

    assert response.status_code not in (400, 413) and response.status_code < 500


def _special_form(client: FlaskClient) -> dict[str, str]:
    g.pop("csrf_token", None)
    page = client.get("/admin/digests/special").get_data(as_text=True)
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page)
    assert token
    return {"csrf_token": token.group(1), "regions": "asie"}


def test_the_special_edition_form_refuses_values_out_of_range_without_echoing_them(
    client: FlaskClient,
) -> None:
    log_in_editor(client)
    for fields, shown in [
        ({"intro": "é" * 20_000}, "10000 caractères au plus"),
        ({"pinned": str(BIG)}, "pas un numéro d’article"),
        ({"pinned": "9" * 5000}, "Article à la une"),
        ({"until": "9999-12-31"}, "entre 01/01/1900 et 31/12/9998"),
        ({"since": "0001-01-01"}, "entre 01/01/1900 et 31/12/9998"),
        ({"intro": "une\x00intro"}, "caractère NUL refusé"),
    ]:
        response = client.post("/admin/digests/special", data={**_special_form(client), **fields})

        page = response.get_data(as_text=True)
        assert response.status_code == 400, fields
        assert shown in page
        assert "éééé" not in page and "9" * 100 not in page
    assert db.session.execute(db.select(Digest)).first() is None


def test_the_preview_refuses_a_digest_parameter_that_is_not_an_id(client: FlaskClient) -> None:
    log_in_editor(client)
    assert client.get("/admin/digests/preview?digest=abc").status_code == 400
    assert client.get(f"/admin/digests/preview?digest={BIG}").status_code == 404
    assert client.get(f"/admin/digests/preview/frame?digest={BIG}&regions=asie").status_code == 404
