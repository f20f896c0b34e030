"""The feeds in the console: their state, and add, pause, resume, remove and poll one now."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import URLField
from wtforms.validators import DataRequired, Length, url

from newsletter.admin.views import bp, login_required
from newsletter.ingest.polling import add_feed, poll_now, remove_feed, set_feed_active
from newsletter.models import Article, Feed, db

GONE = "Ce flux n’existe plus."
NOT_HTTP = "une adresse web en http:// ou https:// est attendue."


class FeedForm(FlaskForm):  # type: ignore[misc]
    # 2000: the column's size (models/article.py).
    url = URLField(
        "Adresse du flux",
        validators=[
            DataRequired("Donnez l’adresse du flux."),
            Length(max=2000, message="2000 caractères au plus."),
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
            flash(f"Adresse du flux : {message}", "error")
        return _back()
    try:
        feed, created = add_feed(form.url.data)
    except ValueError:
        # add_feed's own check, for a URL the form's validator let through.
        flash(f"Adresse du flux : {NOT_HTTP}", "error")
        return _back()
    if created:
        flash(f"Flux ajouté : {feed.url}. Il sera relevé au prochain tour.", "success")
    else:
        flash(f"Flux déjà enregistré (et actif) : {feed.url}", "success")
    return _back()


@bp.post("/feeds/<int:feed_id>/pause")
@login_required
def feed_pause(feed_id: int) -> Response:
    try:
        feed = set_feed_active(feed_id, active=False)
    except LookupError:
        flash(GONE, "error")
    else:
        flash(f"Flux en pause : {_name(feed)}. Ses articles restent.", "success")
    return _back()


@bp.post("/feeds/<int:feed_id>/resume")
@login_required
def feed_resume(feed_id: int) -> Response:
    try:
        feed = set_feed_active(feed_id, active=True)
    except LookupError:
        flash(GONE, "error")
    else:
        flash(f"Flux repris : {_name(feed)}. Il sera relevé au prochain tour.", "success")
    return _back()


@bp.post("/feeds/<int:feed_id>/poll")
@login_required
def feed_poll(feed_id: int) -> Response:
    try:
        feed = poll_now(feed_id)
    except LookupError:
        flash(GONE, "error")
    except ValueError:
        flash("Ce flux est en pause : reprenez-le avant de le relever.", "error")
    else:
        flash(f"Relevé demandé : {_name(feed)}. Son résultat paraîtra dans ce tableau.", "success")
    return _back()


@bp.post("/feeds/<int:feed_id>/remove")
@login_required
def feed_remove(feed_id: int) -> Response:
    feed = db.session.get(Feed, feed_id)
    name = _name(feed) if feed else ""
    try:
        detached = remove_feed(feed_id)
    except LookupError:
        flash(GONE, "error")
    else:
        flash(f"Flux supprimé : {name} ; {_kept(detached)}.", "success")
    return _back()


def _kept(detached: int) -> str:
    if detached == 0:
        return "il n’avait aucun article"
    if detached == 1:
        return "son article reste, sans flux"
    return f"ses {detached} articles restent, sans flux"


def _name(feed: Feed) -> str:
    return feed.title or feed.url


def _back() -> Response:
    return redirect(url_for("admin.feeds"), code=303)
