"""The feeds in the console: their state, and add, pause, resume, remove and poll one now."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import URLField
from wtforms.validators import DataRequired, Length, url

from newsletter.admin.ingest_texts import ingest_reason
from newsletter.admin.views import bp, login_required
from newsletter.ingest.polling import add_feed, poll_now, remove_feed, set_feed_active
from newsletter.models import Article, Feed, db

GONE = _l("This feed no longer exists.")
NOT_HTTP = _l("a web address starting with http:// or https:// is expected.")


class FeedForm(FlaskForm):  # type: ignore[misc]
    # 2000: the column's size (models/article.py).
    url = URLField(
        _l("Feed address"),
        validators=[
            DataRequired(_l("Give the feed's address.")),
            Length(max=2000, message=_l("2000 characters at most.")),
            url(require_tld=False, message=NOT_HTTP),
        ],
    )


@bp.get("/feeds")
@login_required
def feeds() -> str:
    rows = db.session.execute(db.select(Feed).order_by(Feed.id)).scalars().all()
    return render_template(
        "admin/feeds.html",
        feeds=rows,
        counts=_article_counts(),
        feed_form=FeedForm(),
    )


# Pause, resume, poll and remove are buttons: their forms carry only the CSRF token, which
# CSRFProtect checks before any view.


def _article_counts() -> dict[int | None, int]:
    rows = db.session.execute(
        db.select(Article.feed_id, db.func.count()).group_by(Article.feed_id)
    ).all()
    return {feed_id: count for feed_id, count in rows}


@bp.post("/feeds")
@login_required
def add_feed_view() -> Response:
    form = FeedForm()
    if not form.validate_on_submit():
        for message in form.url.errors:
            flash(_("Feed address: %(message)s", message=message), "error")
        return _back()
    try:
        feed, created = add_feed(form.url.data)
    except ValueError:
        # add_feed's own check, for a URL the form's validator let through.
        flash(_("Feed address: %(message)s", message=NOT_HTTP), "error")
        return _back()
    if created:
        flash(
            _("Feed added: %(url)s. It will be polled on the next round.", url=feed.url), "success"
        )
    else:
        flash(_("Feed already registered (and active): %(url)s", url=feed.url), "success")
    return _back()


@bp.post("/feeds/<int:feed_id>/pause")
@login_required
def feed_pause(feed_id: int) -> Response:
    try:
        feed = set_feed_active(feed_id, active=False)
    except LookupError:
        flash(str(GONE), "error")
    else:
        flash(_("Feed paused: %(name)s. Its articles stay.", name=_name(feed)), "success")
    return _back()


@bp.post("/feeds/<int:feed_id>/resume")
@login_required
def feed_resume(feed_id: int) -> Response:
    try:
        feed = set_feed_active(feed_id, active=True)
    except LookupError:
        flash(str(GONE), "error")
    else:
        flash(
            _("Feed resumed: %(name)s. It will be polled on the next round.", name=_name(feed)),
            "success",
        )
    return _back()


@bp.post("/feeds/<int:feed_id>/poll")
@login_required
def feed_poll(feed_id: int) -> Response:
    try:
        feed = poll_now(feed_id)
    except LookupError:
        flash(str(GONE), "error")
    except ValueError:
        flash(_("This feed is paused: resume it before polling it."), "error")
    else:
        flash(
            _("Poll requested: %(name)s. Its result will show in this table.", name=_name(feed)),
            "success",
        )
    return _back()


@bp.post("/feeds/<int:feed_id>/remove")
@login_required
def feed_remove(feed_id: int) -> Response:
    feed = db.session.get(Feed, feed_id)
    name = _name(feed) if feed else ""
    try:
        detached = remove_feed(feed_id)
    except LookupError:
        flash(str(GONE), "error")
    else:
        flash(_("Feed removed: %(name)s; %(kept)s.", name=name, kept=_kept(detached)), "success")
    return _back()


def _kept(detached: int) -> str:
    if detached == 0:
        return _("it had no article")
    return ngettext(
        "its article stays, without a feed",
        "its %(num)d articles stay, without a feed",
        detached,
    )


def _name(feed: Feed) -> str:
    return feed.title or feed.url


def _back() -> Response:
    return redirect(url_for("admin.feeds"), code=303)


@bp.app_template_filter("ingest_reason")
def ingest_reason_filter(text: str | None) -> str:
    """A feed's last error, a page import's failure: kept in the ingest's English, said in the
    console's language wherever a page shows one (the feeds, the dashboard, an import)."""
    return ingest_reason(text) if text else ""
