"""The editors' articles page: import from a page, give regions to the flagged, watch the feeds."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.wrappers import Response
from wtforms import SelectMultipleField, URLField
from wtforms.validators import DataRequired, Length, Optional, url

from newsletter.admin.views import bp, login_required
from newsletter.ingest.articles import articles_awaiting_region, assign_regions
from newsletter.ingest.page import PageError, queue_import
from newsletter.ingest.polling import add_feed
from newsletter.models import Feed, PageImport, Region, db

OUTCOMES = {"created": "importé", "updated": "mis à jour", "unchanged": "déjà à jour"}
RECENT_IMPORTS = 10


class ImportForm(FlaskForm):  # type: ignore[misc]
    url = URLField(
        "Adresse de la page", validators=[Optional(), Length(max=2000), url(require_tld=False)]
    )
    page = FileField("ou fichier HTML enregistré")


class RegionsForm(FlaskForm):  # type: ignore[misc]
    regions = SelectMultipleField("Régions", validators=[DataRequired("Choisissez une région.")])


class FeedForm(FlaskForm):  # type: ignore[misc]
    # 2000: the column's size (models/article.py).
    url = URLField(
        "Adresse du flux", validators=[DataRequired(), Length(max=2000), url(require_tld=False)]
    )


def _region_choices() -> list[tuple[str, str]]:
    regions = db.session.execute(db.select(Region).order_by(Region.position)).scalars()
    return [(region.slug, region.name_fr) for region in regions]


@bp.get("/articles")
@login_required
def articles() -> str:
    feeds = db.session.execute(db.select(Feed).order_by(Feed.id)).scalars().all()
    imports = db.session.execute(
        db.select(PageImport).order_by(PageImport.id.desc()).limit(RECENT_IMPORTS)
    ).scalars()
    return render_template(
        "admin/articles.html",
        import_form=ImportForm(),
        imports=list(imports),
        outcomes=OUTCOMES,
        feed_form=FeedForm(),
        region_choices=_region_choices(),
        awaiting=articles_awaiting_region(),
        feeds=feeds,
    )


@bp.post("/articles/import")
@login_required
def import_article() -> Response:
    """Queue the import and answer at once: a worker fetches and reads the page."""
    form = ImportForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return redirect(url_for("admin.articles"))
    upload = form.page.data
    try:
        if upload and upload.filename:
            limit = current_app.config["FEED_MAX_BYTES"]
            content = upload.stream.read(limit + 1)
            if len(content) > limit:
                raise PageError(f"the file is larger than {limit} bytes")
            queued = queue_import(upload.filename, content=content, editor_id=g.editor.id)
        elif form.url.data:
            queued = queue_import(form.url.data, editor_id=g.editor.id)
        else:
            raise PageError("give the page's address or a saved HTML file")
    except PageError as exc:
        flash(f"Import impossible : {exc}", "error")
        return redirect(url_for("admin.articles"))
    return redirect(url_for("admin.page_import", import_id=queued.id), code=303)


@bp.get("/articles/imports/<int:import_id>")
@login_required
def page_import(import_id: int) -> str:
    """Where an import stands; reading it changes nothing."""
    row = db.get_or_404(PageImport, import_id)
    return render_template("admin/articles_import.html", row=row, outcomes=OUTCOMES)


@bp.post("/articles/<int:article_id>/regions")
@login_required
def set_regions(article_id: int) -> Response:
    form = RegionsForm()
    form.regions.choices = _region_choices()
    if not form.validate_on_submit():
        _flash_errors(form)
        return redirect(url_for("admin.articles"))
    try:
        article = assign_regions(article_id, form.regions.data)
    except LookupError:
        flash("Cet article n’existe plus.", "error")
        return redirect(url_for("admin.articles"))
    names = ", ".join(region.name_fr for region in article.regions)
    flash(f"Régions de « {article.title} » : {names}.", "success")
    return redirect(url_for("admin.articles"))


@bp.post("/feeds")
@login_required
def add_feed_view() -> Response:
    form = FeedForm()
    if form.validate_on_submit():
        try:
            feed, created = add_feed(form.url.data)
        except ValueError as exc:
            flash(str(exc), "error")
        else:
            flash(f"Flux {'ajouté' if created else 'déjà enregistré'} : {feed.url}", "success")
    else:
        _flash_errors(form)
    return redirect(url_for("admin.articles"))


def _flash_errors(form: FlaskForm) -> None:
    for field, messages in form.errors.items():
        label = getattr(getattr(form, field, None), "label", None)
        for message in messages:
            flash(f"{label.text if label else field} : {message}", "error")
