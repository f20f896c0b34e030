"""The editors' articles: the list, an article's regions and section, imports from a page.

The feeds' pages live in admin/feeds.py, imported here so that the app needs no other import.
"""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.wrappers import Response
from wtforms import SelectField, SelectMultipleField, URLField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, url

import newsletter.admin.feeds  # noqa: F401 - its routes attach to admin.bp
from newsletter.admin.articles_list import count_awaiting_region, find_articles, read_filters
from newsletter.admin.ingest_texts import ingest_reason
from newsletter.admin.labels import language, region_name
from newsletter.admin.views import bp, login_required
from newsletter.ingest.articles import assign_regions, edit_article
from newsletter.ingest.page import PageError, queue_import
from newsletter.models import Article, Feed, PageImport, Region, Section, db
from newsletter.models.article import SECTION_LABELS

OUTCOMES = {
    "created": _l("imported"),
    "updated": _l("updated"),
    "unchanged": _l("already up to date"),
}
RECENT_IMPORTS = 10


class ImportForm(FlaskForm):  # type: ignore[misc]
    url = URLField(
        _l("Page address"),
        validators=[Optional(), Length(max=2000), url(require_tld=False)],
    )
    page = FileField(_l("or a saved HTML file"))


class RegionsForm(FlaskForm):  # type: ignore[misc]
    regions = SelectMultipleField(_l("Regions"), validators=[DataRequired(_l("Choose a region."))])


def section_choices() -> list[tuple[str, str]]:
    """(value, name) of every section, named in the console's language."""
    return [(section.value, labels[language()]) for section, labels in SECTION_LABELS.items()]


def _section_select_choices() -> list[SelectChoice]:
    return [SelectChoice("", _("None")), *(SelectChoice(*pair) for pair in section_choices())]


class ArticleForm(FlaskForm):  # type: ignore[misc]
    regions = SelectMultipleField(_l("Regions"), validators=[DataRequired(_l("Choose a region."))])
    section = SelectField(_l("Section"), choices=_section_select_choices, default="")


def _regions() -> list[tuple[str, str]]:
    """(slug, name) in menu order, for the templates' checkboxes and menus."""
    regions = db.session.execute(db.select(Region).order_by(Region.position)).scalars()
    return [(region.slug, region_name(region.slug)) for region in regions]


def _region_choices() -> list[SelectChoice]:
    return [SelectChoice(slug, name) for slug, name in _regions()]


@bp.get("/articles")
@login_required
def articles() -> str:
    """Every article, filtered by the query string; page imports below. Reading changes nothing."""
    feeds = db.session.execute(db.select(Feed).order_by(Feed.id)).scalars().all()
    read = read_filters(request.args, feed_ids={feed.id for feed in feeds})
    imports = db.session.execute(
        db.select(PageImport).order_by(PageImport.id.desc()).limit(RECENT_IMPORTS)
    ).scalars()
    return render_template(
        "admin/articles.html",
        filters=read.filters,
        notices=read.notices,
        found=find_articles(read.filters, read.page),
        feeds=feeds,
        regions=_regions(),
        sections=section_choices(),
        awaiting=count_awaiting_region(),
        import_form=ImportForm(),
        imports=list(imports),
        outcomes=OUTCOMES,
    )


@bp.get("/articles/<int:article_id>")
@login_required
def article_edit(article_id: int) -> str:
    article = db.get_or_404(Article, article_id)
    form = ArticleForm(
        formdata=None,
        regions=[region.slug for region in article.regions],
        section=article.section.value if article.section else "",
    )
    return _edit_page(article, form)


@bp.post("/articles/<int:article_id>")
@login_required
def article_save(article_id: int) -> Response | tuple[str, int]:
    """Regions and section together; a refused form comes back with the editor's choices."""
    article = db.get_or_404(Article, article_id)
    form = ArticleForm()
    form.regions.choices = _region_choices()
    if not form.validate_on_submit():
        return _edit_page(article, form), 400
    section = Section(form.section.data) if form.section.data else None
    try:
        article = edit_article(article_id, region_slugs=form.regions.data, section=section)
    except LookupError:
        abort(404)
    names = ", ".join(region_name(region.slug) for region in article.regions)
    flash(
        _(
            "Article saved: %(regions)s; section %(section)s.",
            regions=names,
            section=_section_name(section),
        ),
        "success",
    )
    return redirect(url_for("admin.article_edit", article_id=article_id), code=303)


def _edit_page(article: Article, form: ArticleForm) -> str:
    form.regions.choices = _region_choices()
    return render_template(
        "admin/articles_edit.html", article=article, form=form, regions=_regions()
    )


def _section_name(section: Section | None) -> str:
    return SECTION_LABELS[section][language()] if section else _("none")


@bp.app_template_filter("section_name")
def section_name(section: Section | None) -> str:
    return SECTION_LABELS[section][language()] if section else "—"


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
            raise PageError(_("give the page's address or a saved HTML file"))
    except PageError as exc:
        # The ingest's reasons are in English; the console says them in its language.
        flash(_("Import failed: %(reason)s", reason=ingest_reason(str(exc))), "error")
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
        flash(_("This article no longer exists."), "error")
        return redirect(url_for("admin.articles"))
    names = ", ".join(region_name(region.slug) for region in article.regions)
    flash(_("Regions of “%(title)s”: %(regions)s.", title=article.title, regions=names), "success")
    # Back to those still waiting: the editor goes on with the next one.
    return redirect(url_for("admin.articles", sans_region="1"))


def _flash_errors(form: FlaskForm) -> None:
    for field, messages in form.errors.items():
        label = getattr(getattr(form, field, None), "label", None)
        for message in messages:
            flash(
                _("%(field)s: %(message)s", field=label.text if label else field, message=message),
                "error",
            )
