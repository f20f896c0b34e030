"""The editors' area: login, and the pages behind it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from newsletter.admin.accounts import find_editor
from newsletter.extensions import limiter
from newsletter.models import Article, Digest, Editor, Subscriber, SubscriberStatus, db, utcnow

bp = Blueprint("admin", __name__, url_prefix="/admin")
F = TypeVar("F", bound=Callable[..., Any])


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        editor_id = session.get("editor_id")
        editor = db.session.get(Editor, editor_id) if editor_id else None
        if editor is None or not editor.active:
            return redirect(url_for("admin.login", next=request.full_path))
        g.editor = editor
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class LoginForm(FlaskForm):  # type: ignore[misc]
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login() -> str | Response:
    form = LoginForm()
    if form.validate_on_submit():
        try:
            editor = find_editor(form.email.data)
        except ValueError:
            editor = None
        if editor is not None and editor.active and editor.check_password(form.password.data):
            session.clear()
            session["editor_id"] = editor.id
            editor.last_login_at = utcnow()
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        flash("Unknown email or wrong password.", "error")
    return render_template("admin/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    return redirect(url_for("admin.login"))


@bp.get("/")
@login_required
def dashboard() -> str:
    count = lambda stmt: db.session.execute(stmt).scalar_one()  # noqa: E731
    stats = {
        "confirmed": count(
            db.select(db.func.count())
            .select_from(Subscriber)
            .where(Subscriber.status == SubscriberStatus.CONFIRMED)
        ),
        "pending": count(
            db.select(db.func.count())
            .select_from(Subscriber)
            .where(Subscriber.status == SubscriberStatus.PENDING)
        ),
        "articles": count(db.select(db.func.count()).select_from(Article)),
    }
    digests = db.session.execute(db.select(Digest).order_by(Digest.id.desc()).limit(10)).scalars()
    return render_template("admin/dashboard.html", stats=stats, digests=list(digests))


def _safe_next(target: str | None) -> str:
    """Only a path on this site: a login link must not bounce the editor elsewhere."""
    if target and target.startswith("/") and "\\" not in target and not urlsplit(target).netloc:
        return target
    return url_for("admin.dashboard")
