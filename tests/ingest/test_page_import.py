"""Importing an article from its page (a file or a URL): what the page's metadata says."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import Flask

from newsletter.ingest.feeds import ingest_file
from newsletter.models import Article, Section, db
from tests.ingest.conftest import FIXTURES, SAMPLE_FEED
from tests.ingest.feedserver import FeedServer, Reply

PAGE = FIXTURES / "article-page.html"
URL = "https://www.revue-internationale.example/2021/12/pourparlers-russo-americains-en-janvier/"
HTML = {"Content-Type": "text/html; charset=utf-8"}


def _articles() -> list[Article]:
    db.session.expire_all()
    return list(db.session.execute(db.select(Article)).scalars())


def test_importing_a_saved_page_reads_title_date_author_lead_image_section_and_regions(
    app: Flask,
) -> None:
    result = app.test_cli_runner().invoke(args=["articles", "import", str(PAGE)])

    assert result.exit_code == 0, result.output
    assert "Created: Pourparlers russo-américains en janvier" in result.output
    assert "regions: russie, ameriques; section: en-continu" in result.output
    [article] = _articles()
    assert article.url == URL
    assert article.title == "Pourparlers russo-américains en janvier"
    # article:published_time is 11:00 in Paris.
    assert article.published_at == datetime(2021, 12, 29, 10, 0, tzinfo=UTC)
    assert article.author == "Etienne Dhuit"
    assert article.lead.startswith("La Russie et les Etats-Unis se sont mis d’accord")
    assert article.image_url == (
        "https://www.revue-internationale.example/wp-content/uploads/2021/12/geneve-pourparlers.jpg"
    )
    assert article.section is Section.EN_CONTINU
    assert [r.slug for r in article.regions] == ["russie", "ameriques"]
    assert article.tags == ["Pourparlers Russie USA"]


def test_importing_a_page_by_url_updates_the_article_the_feed_already_has(
    app: Flask, feed_server: FeedServer
) -> None:
    ingest_file(SAMPLE_FEED)
    feed_server.routes["/article/"] = Reply(body=PAGE.read_bytes(), headers=HTML)

    result = app.test_cli_runner().invoke(args=["articles", "import", feed_server.url("/article/")])

    assert result.exit_code == 0, result.output
    assert "Updated: Pourparlers russo-américains en janvier" in result.output
    assert feed_server.requests[0].headers["Accept"].startswith("text/html")
    articles = _articles()
    assert len(articles) == 8
    talks = next(a for a in articles if a.url == URL)
    assert talks.guid == "https://www.revue-internationale.example/?p=88020"
    assert talks.image_url is not None and talks.image_url.endswith("geneve-pourparlers.jpg")


def test_a_page_without_regions_is_imported_and_flagged(app: Flask, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(
        PAGE.read_bytes().replace(
            b'"articleSection": ["En Continu", "Russie", "Am\xc3\xa9riques"]', b'"x": 1'
        )
    )

    result = app.test_cli_runner().invoke(args=["articles", "import", str(page)])

    assert result.exit_code == 0, result.output
    assert "regions: none: flagged for the editors" in result.output
    [article] = _articles()
    assert article.needs_region
    assert article.section is Section.EN_CONTINU  # still said by article:section


def test_a_page_that_is_not_an_article_is_refused_with_a_reason(
    app: Flask, tmp_path: Path, feed_server: FeedServer
) -> None:
    page = tmp_path / "empty.html"
    page.write_text("<html><body><p>Rien</p></body></html>")
    runner = app.test_cli_runner()

    no_title = runner.invoke(args=["articles", "import", str(page)])
    missing = runner.invoke(args=["articles", "import", feed_server.url("/nowhere/")])
    no_file = runner.invoke(args=["articles", "import", str(tmp_path / "absent.html")])

    assert no_title.exit_code == 1 and "no article title found" in no_title.output
    assert missing.exit_code == 1 and "HTTP 404" in missing.output
    assert no_file.exit_code == 1 and "neither an http(s) URL nor a file" in no_file.output
    assert _articles() == []
