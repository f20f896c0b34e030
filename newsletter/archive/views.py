"""The archive's pages: /archive/ and /archive/<region>/, each edition, and their Atom feeds.

Nothing here is personal (no reader, no session data shown), so the pages may be kept by
caches for a few minutes: an edition an editor hides leaves them within CACHE_SECONDS.
The language is the URL's (?lang=en; French otherwise), never the browser's: one URL, one page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, current_app, g, make_response, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from newsletter.admin.labels import edition_title, long_day, region_name, region_names, zone
from newsletter.admin.paging import page_number
from newsletter.archive.editions import (
    FEED_SIZE,
    archive_page,
    archived_edition,
    latest_edition,
)
from newsletter.archive.letter import render_letter
from newsletter.models import REGIONS, Digest

bp = Blueprint("archive", __name__, url_prefix="/archive")

CACHE_SECONDS = 300
ATOM = "application/atom+xml; charset=utf-8"


@bp.before_request
def _language() -> None:
    g.language = "en" if request.args.get("lang") == "en" else "fr"


@bp.after_request
def _cache(response: Response) -> Response:
    # Public: the same page for everyone. Flask adds "Vary: Cookie" when the page read the
    # session (the site's layout looks for flashed messages), so no cache mixes those up.
    if response.status_code == 200:
        response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response


@bp.app_context_processor
def _latest() -> dict[str, object]:
    """For the subscription form's "see a recent letter": queried only if a page asks."""
    return {"latest_archived_url": latest_archived_url}


def latest_archived_url() -> str | None:
    digest = latest_edition()
    if digest is None:
        return None
    lang = "en" if g.get("language") == "en" or request.args.get("lang") == "en" else None
    return url_for("archive.edition", digest_id=digest.id, lang=lang)


def index(region: str | None = None) -> str:
    page = page_number(request.args.get("page", "1"))
    if page is None:
        abort(400)
    found = archive_page(page, region=region)
    if page > 1 and not found.editions:
        abort(404)
    return render_template(
        "web/archive.html",
        region=region,
        region_label=region_name(region) if region else None,
        editions=[_summary(digest, region) for digest in found.editions],
        page=page,
        more=found.more,
        regions=[slug for slug, _name_fr, _name_en in REGIONS],
        lang=_lang_arg(),
        **_feed_link(region),
    )


def feed(region: str | None = None) -> Response:
    found = archive_page(1, region=region)
    editions = found.editions[:FEED_SIZE]
    self_url = _absolute("archive.region_feed" if region else "archive.feed", region=region)
    body = render_template(
        "web/archive_feed.xml",
        feed_id=self_url,
        self_url=self_url,
        alternate=_absolute("archive.region" if region else "archive.index", region=region),
        title=_feed_title(region),
        lang=g.language,
        updated=_rfc3339(editions[0].finished_at if editions else None),
        entries=[
            {
                **_summary(digest, region),
                "url": _absolute(_edition_endpoint(region), region=region, digest_id=digest.id),
                "updated": _rfc3339(digest.finished_at),
            }
            for digest in editions
        ],
    )
    response = make_response(body)
    response.headers["Content-Type"] = ATOM
    return response


def edition(digest_id: int, region: str | None = None) -> Response:
    digest = archived_edition(digest_id, region=region)
    if digest is None:
        abort(404)
    html = render_letter(digest, region=region, language=g.language)
    if html is None:
        abort(404)  # its articles are gone since: nothing to show
    # The letter is the email's own page: its feed link goes in as the last line of its head.
    link = render_template("web/archive_feed_link.html", **_feed_link(region))
    return make_response(html.replace("</head>", f"{link}\n</head>", 1))


def _summary(digest: Digest, region: str | None) -> dict[str, str]:
    sent = digest.started_at or digest.finished_at or digest.created_at
    return {
        "title": edition_title(digest),
        "day": long_day(sent.astimezone(zone()).date()),
        "regions": region_names(digest.region_slugs),
        "href": url_for(
            _edition_endpoint(region), region=region, digest_id=digest.id, lang=_lang_arg()
        ),
    }


def _feed_link(region: str | None) -> dict[str, str]:
    """The feed a page announces to feed readers: its region's, else the whole archive's."""
    return {
        "feed_url": url_for(
            "archive.region_feed" if region else "archive.feed", region=region, lang=_lang_arg()
        ),
        "feed_title": _feed_title(region),
    }


def _edition_endpoint(region: str | None) -> str:
    return "archive.region_edition" if region else "archive.edition"


def _lang_arg() -> str | None:
    return "en" if g.language == "en" else None


def _absolute(endpoint: str, **values: Any) -> str:
    # None values are left out of the URL (url_for drops them).
    path = url_for(endpoint, lang=_lang_arg(), **values)
    return f"{current_app.config['BASE_URL']}{path}"


def _feed_title(region: str | None) -> str:
    if region:
        return _("La Revue Internationale — past letters: %(region)s", region=region_name(region))
    return _("La Revue Internationale — past letters")


def _rfc3339(moment: datetime | None) -> str:
    return (moment or datetime(2000, 1, 1, tzinfo=UTC)).isoformat(timespec="seconds")


bp.add_url_rule("/", "index", index)
bp.add_url_rule("/feed.atom", "feed", feed)
bp.add_url_rule("/<int:digest_id>/", "edition", edition)
# One rule per region rather than /<region>/: an unknown slug is a 404 from the routing.
for _slug, _name_fr, _name_en in REGIONS:
    bp.add_url_rule(f"/{_slug}/", "region", index, defaults={"region": _slug})
    bp.add_url_rule(f"/{_slug}/feed.atom", "region_feed", feed, defaults={"region": _slug})
    bp.add_url_rule(
        f"/{_slug}/<int:digest_id>/", "region_edition", edition, defaults={"region": _slug}
    )
