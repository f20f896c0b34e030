"""What editors see after a send: an edition's clicks per article and section, the readers who
left after it, and the trend over the last editions — in charts and in tables."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import html5lib
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from newsletter.digests.editions import create_special
from newsletter.models import Subscriber, db
from newsletter.subscriptions.tokens import reader_links
from tests.clicks.test_click_counting import READER_AGENT, letters_links
from tests.digests.conftest import SAMPLE_SINCE, SAMPLE_UNTIL
from tests.support.editors import log_in_editor
from tests.support.smtp import SmtpSink


def cell(page: str, key: str) -> str:
    found = re.search(rf'data-clicks="{key}">([^<]*)<', page)
    assert found, key
    return found.group(1)


def test_an_editions_report_and_the_dashboard_show_clicks_and_who_left_after_it(
    app: Flask,
    client: FlaskClient,
    sample_articles: None,
    smtp_sink: SmtpSink,
    make_reader: Callable[..., Subscriber],
) -> None:
    readers = [make_reader("russie"), make_reader("russie"), make_reader("afrique")]
    digest_id = create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL, created_by="t").digest.id
    letters = letters_links(smtp_sink)
    time.sleep(2.1)
    [first] = [i for i, m in enumerate(smtp_sink.messages) if readers[0].email in m.rcpt_tos]
    for url in sorted(letters[first])[:2]:  # a reader of Russia follows two articles
        parts = urlsplit(url)
        client.get(parts.path, query_string=parts.query, headers={"User-Agent": READER_AGENT})
    # The third reader leaves by the letter's one-click unsubscribe.
    unsubscribe = urlsplit(reader_links(readers[2].id).unsubscribe_url).path
    assert client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    db.session.expire_all()

    log_in_editor(client)
    page = client.get(f"/admin/digests/{digest_id}").get_data(as_text=True)
    html5lib.HTMLParser(strict=False).parse(page)
    assert cell(page, "delivered") == "3"
    assert cell(page, "clicks") == "2"
    assert cell(page, "per-thousand") == "666,7"  # the console's French writes it so
    assert cell(page, "unsubscribed") == "1"
    assert cell(page, "complained") == "0"
    assert page.count('<svg class="chart"') >= 2
    assert 'class="list click-articles"' in page and 'class="list click-sections"' in page
    assert "style=" not in page.split('class="clicks"', 1)[1].split("</section>", 1)[0]
    # Each article's clicks per section, against the 2 letters that had Russia's section.
    assert page.count("Russie : 1 (500,0 pour 1 000 lettres qui l’ont)") == 2
    english = client.get(f"/admin/digests/{digest_id}", headers={"Accept-Language": "en"})
    assert cell(english.get_data(as_text=True), "per-thousand") == "666.7"
    assert "Russia: 1 (500.0 per 1,000 letters with it)" in english.get_data(as_text=True)

    dashboard = client.get("/admin/").get_data(as_text=True)
    trend = dashboard.split('class="dashboard-trend"', 1)[1].split("</section>", 1)[0]
    assert trend.count('<svg class="chart"') == 2
    assert re.search(r"<td data-trend-clicks>2</td><td>666,7</td><td>1</td><td>0</td>", trend)
    assert db.session.execute(sa.select(sa.func.count()).select_from(Subscriber)).scalar() == 3
