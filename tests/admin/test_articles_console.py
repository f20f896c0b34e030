"""The articles in the console: the list with its filters, search and pages, and an article's
regions and section edited by an editor."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from flask import Flask, g
from flask.testing import FlaskClient

from newsletter.ingest.articles import ArticleData, upsert_article
from newsletter.models import Article, Feed, Region, Section, db
from tests.support.editors import log_in_editor

HOSTILE = '"><img src=x onerror=alert(1)>'
# 16:30 UTC on 1 December is 17:30 in Paris (TIMEZONE's default).
DEC_1 = datetime(2026, 12, 1, 16, 30, tzinfo=UTC)


@pytest.fixture
def editor(client: FlaskClient) -> FlaskClient:
    return log_in_editor(client)


def feed(url: str = "https://www.revue-internationale.example/feed/", title: str = "") -> Feed:
    row = Feed(url=url, title=title or None)
    db.session.add(row)
    db.session.commit()
    return row


def article(
    title: str,
    *,
    regions: tuple[str, ...] = (),
    section: Section | None = None,
    source: Feed | None = None,
    published_at: datetime = DEC_1,
) -> Article:
    found = db.session.execute(db.select(Region).where(Region.slug.in_(regions))).scalars()
    row = Article(
        guid=f"guid-{title}-{published_at.isoformat()}",
        url=f"https://www.revue-internationale.example/{len(title)}/",
        title=title,
        section=section,
        published_at=published_at,
        regions=sorted(found, key=lambda region: region.position),
        feed_id=source.id if source else None,
    )
    db.session.add(row)
    db.session.commit()
    return row


def page(client: FlaskClient, query: str = "") -> str:
    response = client.get(f"/admin/articles{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def listed(html_page: str) -> list[str]:
    """The titles of the list's rows, in order, as the editor reads them."""
    table = html_page[html_page.index('<table class="list articles">') :]
    table = table[: table.index("</table>")]
    return [
        html.unescape(t) for t in re.findall(r'<a href="/admin/articles/\d+">([^<]*)</a>', table)
    ]


def notices(html_page: str) -> list[str]:
    found = re.findall(r'<p class="flash flash-error" role="status">([^<]*)</p>', html_page)
    return [html.unescape(text) for text in found]


def token(client: FlaskClient, path: str) -> str:
    g.pop("csrf_token", None)
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page_at(client, path))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def page_at(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_the_list_shows_each_article_with_its_paris_date_regions_section_and_feed(
    app: Flask, editor: FlaskClient
) -> None:
    source = feed(title="La Revue — tous les articles")
    article(
        "Pourparlers à Genève",
        regions=("russie", "ameriques"),
        section=Section.IDEES,
        source=source,
    )
    article("Une brève plus ancienne", published_at=DEC_1 - timedelta(days=2))

    shown = page(editor)

    assert listed(shown) == ["Pourparlers à Genève", "Une brève plus ancienne"]  # newest first
    row = shown[shown.index("Pourparlers à Genève") : shown.index("Une brève plus ancienne")]
    assert "1 déc. 2026, 17:30" in row
    assert "Russie, Amériques" in row and "Idées" in row
    assert "La Revue — tous les articles" in row
    older = shown[shown.index("Une brève plus ancienne") :]
    assert "aucune" in older and "hors flux" in older
    assert "2 articles." in shown
    assert "Articles sans région (1)" in shown


def test_the_region_filter_keeps_the_articles_of_that_region(
    app: Flask, editor: FlaskClient
) -> None:
    article("À Moscou", regions=("russie",))
    article("À Pékin", regions=("asie",))
    article("Sans région")

    assert listed(page(editor, "?region=asie")) == ["À Pékin"]
    assert 'value="asie" selected' in page(editor, "?region=asie")


def test_the_without_region_filter_shows_those_waiting_with_a_form_to_give_them_one(
    app: Flask, editor: FlaskClient
) -> None:
    waiting = article("Sans région")
    article("À Moscou", regions=("russie",))

    shown = page(editor, "?sans_region=1")

    assert listed(shown) == ["Sans région"]
    assert f'action="/admin/articles/{waiting.id}/regions"' in shown
    assert "Ils ne figurent dans aucune édition régionale" in shown


def test_the_section_and_feed_filters_keep_their_articles(app: Flask, editor: FlaskClient) -> None:
    first, second = feed(title="Premier flux"), feed(url="https://autre.example/rss", title="")
    article("Idée du premier", section=Section.IDEES, source=first)
    article("Dépêche du premier", section=Section.EN_CONTINU, source=first)
    earlier = DEC_1 - timedelta(hours=1)
    article("Idée du second", section=Section.IDEES, source=second, published_at=earlier)

    assert listed(page(editor, "?section=idees")) == ["Idée du premier", "Idée du second"]
    assert listed(page(editor, f"?feed={second.id}")) == ["Idée du second"]
    both = page(editor, f"?section=idees&feed={first.id}")
    assert listed(both) == ["Idée du premier"]
    assert ">https://autre.example/rss</option>" in both  # a feed without title by its URL


def test_the_date_range_counts_days_on_the_newsrooms_clock(app: Flask, editor: FlaskClient) -> None:
    # 23:30 UTC on 30 November is already 1 December in Paris.
    article("Minuit et demie à Paris", published_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    article("Le 30 au soir", published_at=datetime(2026, 11, 30, 22, 30, tzinfo=UTC))
    article("Le 3 décembre", published_at=datetime(2026, 12, 3, 9, tzinfo=UTC))

    assert listed(page(editor, "?du=2026-12-01&au=2026-12-01")) == ["Minuit et demie à Paris"]
    assert listed(page(editor, "?du=2026-12-01")) == ["Le 3 décembre", "Minuit et demie à Paris"]
    assert listed(page(editor, "?au=2026-11-30")) == ["Le 30 au soir"]


def test_the_search_finds_a_title_whatever_its_case_and_takes_wildcards_literally(
    app: Flask, editor: FlaskClient
) -> None:
    article("La GUERRE en Ukraine")
    article("Sanctions : 100 % des avoirs gelés")
    article("Élections en Asie")

    assert listed(page(editor, "?q=guerre+en+ukraine")) == ["La GUERRE en Ukraine"]
    assert listed(page(editor, "?q=100+%25")) == ["Sanctions : 100 % des avoirs gelés"]
    assert listed(page(editor, "?q=%25")) == ["Sanctions : 100 % des avoirs gelés"]
    assert listed(page(editor, "?q=_")) == []
    assert listed(page(editor, "?q=Élections")) == ["Élections en Asie"]


def test_the_search_ignores_accents_both_ways(app: Flask, editor: FlaskClient) -> None:
    article("Élections en Asie")
    article("Une école à Kiev")
    article("Le cœur de l’Europe")
    article("Election day")

    assert listed(page(editor, "?q=elections")) == ["Élections en Asie"]
    assert listed(page(editor, "?q=ÉCOLE")) == ["Une école à Kiev"]
    assert listed(page(editor, "?q=Ecole+a+kiev")) == ["Une école à Kiev"]
    assert listed(page(editor, "?q=élection")) == ["Election day", "Élections en Asie"]
    assert listed(page(editor, "?q=cœur")) == ["Le cœur de l’Europe"]
    assert listed(page(editor, "?q=COEUR")) == ["Le cœur de l’Europe"]


def test_an_article_whose_title_an_editor_changes_is_found_by_its_new_title(
    app: Flask, editor: FlaskClient
) -> None:
    renamed = article("Titre provisoire")
    renamed.title = "Sécheresse au Sahel"
    db.session.commit()

    assert listed(page(editor, "?q=secheresse")) == ["Sécheresse au Sahel"]
    assert listed(page(editor, "?q=provisoire")) == []


def test_fifty_articles_a_page_and_the_next_page_keeps_the_filters(
    app: Flask, editor: FlaskClient
) -> None:
    for n in range(53):
        article(f"Asie n° {n:02d}", regions=("asie",), published_at=DEC_1 - timedelta(hours=n))
    article("Ailleurs", regions=("russie",))

    first = page(editor, "?region=asie")
    second = page(editor, "?region=asie&page=2")

    assert listed(first) == [f"Asie n° {n:02d}" for n in range(50)]
    assert "53 articles, page 1 sur 2." in first
    assert 'href="/admin/articles?page=2&amp;region=asie">Plus anciens' in first
    assert listed(second) == ["Asie n° 50", "Asie n° 51", "Asie n° 52"]
    assert 'href="/admin/articles?page=1&amp;region=asie">← Plus récents' in second
    # Past the last page: the last page.
    assert listed(page(editor, "?region=asie&page=40")) == listed(second)


@pytest.mark.parametrize(
    ("query", "notice"),
    [
        ("?page=abc", "Numéro de page illisible « abc » : première page."),
        ("?page=0", "Numéro de page illisible « 0 » : première page."),
        ("?page=" + "9" * 40, "Numéro de page illisible"),
        ("?du=hier", "Du : date illisible « hier » (attendu : AAAA-MM-JJ)."),
        ("?au=2026-13-45", "Au : date illisible « 2026-13-45 » (attendu : AAAA-MM-JJ)."),
        ("?du=0001-01-01", "Du : date illisible « 0001-01-01 »"),
        ("?region=mars", "Région inconnue « mars » : filtre ignoré."),
        ("?section=sport", "Rubrique inconnue « sport » : filtre ignoré."),
        ("?feed=abc", "Flux inconnu « abc » : filtre ignoré."),
        ("?feed=99999999999999999999", "Flux inconnu"),
        ("?du=2026-12-02&au=2026-12-01", "La période est inversée"),
    ],
)
def test_a_filter_that_cannot_be_read_is_ignored_and_said_in_french(
    app: Flask, editor: FlaskClient, query: str, notice: str
) -> None:
    article("Toujours listé", regions=("asie",))

    shown = page(editor, query)

    assert any(text.startswith(notice) for text in notices(shown)), notices(shown)
    if "inversée" not in notice:
        assert listed(shown) == ["Toujours listé"]


def test_a_hostile_title_shows_as_text_on_the_list_and_the_edit_page(
    app: Flask, editor: FlaskClient
) -> None:
    row = article(HOSTILE)

    listing, searched = page(editor), page(editor, "?" + urlencode({"q": HOSTILE}))
    edit = page_at(editor, f"/admin/articles/{row.id}")

    assert listed(listing) == listed(searched) == [HOSTILE]  # the title, as text
    assert "<h1>&#34;&gt;&lt;img src=x onerror=alert(1)&gt;</h1>" in edit
    for shown in (listing, searched, edit):
        assert "<img" not in shown


def test_the_edit_page_shows_the_articles_regions_and_section_checked(
    app: Flask, editor: FlaskClient
) -> None:
    row = article("À éditer", regions=("afrique", "asie"), section=Section.GRAND_ANGLE)

    shown = page_at(editor, f"/admin/articles/{row.id}")

    checked = re.findall(r'name="regions" value="([^"]+)" checked', shown)
    assert checked == ["asie", "afrique"]
    assert re.search(r'<option selected value="grand-angle">Grand Angle</option>', shown)
    assert "1 déc. 2026, 17:30" in shown


def test_an_editor_changes_an_articles_regions_and_section(app: Flask, editor: FlaskClient) -> None:
    row = article("À éditer", regions=("afrique",))
    csrf = token(editor, f"/admin/articles/{row.id}")

    response = editor.post(
        f"/admin/articles/{row.id}",
        data={"csrf_token": csrf, "regions": ["russie", "moyen-orient"], "section": "idees"},
        follow_redirects=True,
    )

    shown = response.get_data(as_text=True)
    assert response.request.path == f"/admin/articles/{row.id}"
    assert "Article enregistré : Russie, Moyen-Orient ; rubrique Idées." in shown
    db.session.expire_all()
    saved = db.session.get(Article, row.id)
    assert [r.slug for r in saved.regions] == ["russie", "moyen-orient"]
    assert saved.section is Section.IDEES
    assert listed(page(editor, "?section=idees&region=moyen-orient")) == ["À éditer"]


def test_the_editors_section_stays_when_the_feed_names_none(
    app: Flask, editor: FlaskClient
) -> None:
    row = article("Venu du flux", regions=("asie",))
    csrf = token(editor, f"/admin/articles/{row.id}")
    editor.post(
        f"/admin/articles/{row.id}",
        data={"csrf_token": csrf, "regions": ["asie"], "section": "grand-angle"},
    )

    # The feed's next poll brings the same item, with no section and no region.
    upsert_article(
        ArticleData(
            guid=row.guid, url=row.url, title="Venu du flux (mis à jour)", published_at=DEC_1
        )
    )
    db.session.commit()

    db.session.expire_all()
    saved = db.session.get(Article, row.id)
    assert saved.title == "Venu du flux (mis à jour)"
    assert saved.section is Section.GRAND_ANGLE
    assert [r.slug for r in saved.regions] == ["asie"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"section": "idees"}, "Choisissez une région."),
        ({"regions": ["asie", "mars"]}, "mars"),
        ({"regions": ["asie"], "section": "sport"}, "Rubrique"),
    ],
)
def test_an_edit_with_no_or_unknown_values_is_refused_and_changes_nothing(
    app: Flask, editor: FlaskClient, fields: dict[str, object], message: str
) -> None:
    row = article("Intact", regions=("afrique",), section=Section.IDEES)
    csrf = token(editor, f"/admin/articles/{row.id}")

    response = editor.post(f"/admin/articles/{row.id}", data={"csrf_token": csrf, **fields})

    assert response.status_code == 400
    shown = html.unescape(response.get_data(as_text=True))
    assert message in shown
    errors = re.findall(r'<p class="error" id="[a-z-]+">([^<]*)</p>', shown)
    assert errors, "the refusal is shown beside its field"
    db.session.expire_all()
    kept = db.session.get(Article, row.id)
    assert [r.slug for r in kept.regions] == ["afrique"] and kept.section is Section.IDEES


def test_saving_an_article_needs_the_forms_csrf_token(app: Flask, editor: FlaskClient) -> None:
    row = article("Intact", regions=("afrique",))

    response = editor.post(f"/admin/articles/{row.id}", data={"regions": ["asie"]})

    assert response.status_code == 400
    db.session.expire_all()
    assert [r.slug for r in db.session.get(Article, row.id).regions] == ["afrique"]


def test_an_unknown_article_is_a_404(app: Flask, editor: FlaskClient) -> None:
    csrf = token(editor, "/admin/articles")
    assert editor.get("/admin/articles/999999").status_code == 404
    missing = editor.post("/admin/articles/999999", data={"csrf_token": csrf, "regions": ["asie"]})
    assert missing.status_code == 404


def test_the_articles_pages_send_a_stranger_to_the_login(app: Flask, client: FlaskClient) -> None:
    row = article("Réservé")
    for path in ("/admin/articles", "/admin/articles?region=asie", f"/admin/articles/{row.id}"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/admin/login"), path
