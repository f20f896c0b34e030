"""The dashboard: readers week by week (all, or one region's), confirmed readers per region,
what the next weekly edition would send, feeds in error and articles awaiting a region."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from newsletter.models import (
    Article,
    ConsentEvent,
    ConsentKind,
    Feed,
    Region,
    Subscriber,
    SubscriberStatus,
    db,
    utcnow,
)
from tests.support.editors import log_in_editor


def this_weeks_row(page: str) -> str:
    """The last row of the week-by-week table: this week's figures."""
    start = page.index('class="list figures-by-week"')
    table = page[start : page.index("</table>", start)]
    rows = re.findall(r"<tr><th scope=\"row\">[^<]+</th>(.*?)</tr>", table)
    return rows[-1]


def cell(row: str, flow: str) -> int:
    found = re.search(rf'data-flow="{flow}">(\d+)<', row)
    assert found, flow
    return int(found.group(1))


def reader(*slugs: str, status: SubscriberStatus = SubscriberStatus.CONFIRMED) -> Subscriber:
    regions = db.session.execute(db.select(Region).where(Region.slug.in_(slugs))).scalars()
    made = Subscriber(
        email=f"reader{len(slugs)}-{utcnow().timestamp()}@example.org",
        language="fr",
        status=status,
        confirmed_at=utcnow() - timedelta(days=30),
        regions=list(regions),
    )
    db.session.add(made)
    db.session.commit()
    return made


def happen(reader: Subscriber | None, kind: ConsentKind, *, days_ago: int = 0) -> None:
    at = utcnow() - timedelta(days=days_ago)
    db.session.add(ConsentEvent(subscriber_id=reader.id if reader else None, kind=kind, at=at))
    db.session.commit()


def test_readers_week_by_week_count_each_kind_of_event_and_follow_the_region_asked(
    app: Flask, client: FlaskClient
) -> None:
    log_in_editor(client)
    asia, africa = reader("asie"), reader("afrique")
    happen(asia, ConsentKind.CONFIRM)
    happen(africa, ConsentKind.CONFIRM)
    happen(africa, ConsentKind.UNSUBSCRIBE)
    happen(asia, ConsentKind.COMPLAINT)
    happen(None, ConsentKind.BOUNCE)  # an erased reader's event: counted, in no region
    happen(asia, ConsentKind.CONFIRM, days_ago=200)  # before the chart's twelve weeks

    everyone = this_weeks_row(client.get("/admin/").get_data(as_text=True))
    asia_only = this_weeks_row(client.get("/admin/?region=asie").get_data(as_text=True))
    unknown = client.get("/admin/?region=atlantide")

    assert [cell(everyone, k) for k in ("confirmed", "unsubscribed", "bounced", "complained")] == [
        2,
        1,
        1,
        1,
    ]
    assert [cell(asia_only, k) for k in ("confirmed", "unsubscribed", "bounced", "complained")] == [
        1,
        0,
        0,
        1,
    ]
    assert unknown.status_code == 200
    assert this_weeks_row(unknown.get_data(as_text=True)) == everyone


def test_confirmed_readers_per_region_and_the_next_weekly_edition_are_shown(
    app: Flask, client: FlaskClient
) -> None:
    log_in_editor(client)
    reader("asie")
    reader("asie", "russie")
    reader("russie")
    reader("asie", status=SubscriberStatus.UNSUBSCRIBED)
    asia = db.session.execute(db.select(Region).where(Region.slug == "asie")).scalar_one()
    db.session.add(
        Article(
            guid="https://revue.example/a",
            url="https://revue.example/a",
            title="Détroit de Taïwan",
            published_at=utcnow() - timedelta(hours=1),
            regions=[asia],
        )
    )
    db.session.commit()

    page = client.get("/admin/").get_data(as_text=True)

    assert 'data-region="asie">2<' in page and 'data-region="russie">2<' in page
    assert 'data-region="afrique">0<' in page
    assert 'data-next="readers">2<' in page  # the two readers of Asia
    assert 'data-next="without-news">1<' in page  # Russia only: nothing new
    assert '<svg class="chart"' in page and "style=" not in page


def test_feeds_in_error_and_articles_without_a_region_ask_for_attention(
    app: Flask, client: FlaskClient
) -> None:
    log_in_editor(client)
    now = utcnow()
    hostile = '"><img src=x onerror=alert(1)>'
    db.session.add_all(
        [
            Feed(url="https://a.example/rss", title=hostile, last_error=hostile, last_error_at=now),
            Feed(
                url="https://b.example/rss",
                title="Rétabli",
                last_error="timeout",
                last_error_at=now - timedelta(days=2),
                last_success_at=now - timedelta(days=1),
            ),
            Article(
                guid="https://revue.example/x",
                url="https://revue.example/x",
                title="Sans région",
                published_at=now,
            ),
        ]
    )
    db.session.commit()

    page = client.get("/admin/").get_data(as_text=True)

    assert "Flux en erreur" in page and "Rétabli" not in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<strong data-awaiting>1</strong> article(s) sans région" in page
