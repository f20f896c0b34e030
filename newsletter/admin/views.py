"""The editors' area: login, and the pages behind it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.wrappers import Response as FlaskResponse
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter import RequestLimit
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from newsletter.admin import sessions, throttle
from newsletter.admin.accounts import authenticate
from newsletter.extensions import CONSOLE_LANGUAGE_KEY, LANGUAGES, limiter
from newsletter.models import db, utcnow

bp = Blueprint("admin", __name__, url_prefix="/admin")
F = TypeVar("F", bound=Callable[..., Any])


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        editor = sessions.live_editor(session.get(sessions.COOKIE_KEY))
        if editor is None:
            return redirect(url_for("admin.login", next=request.full_path))
        g.editor = editor
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def admin_required(view: F) -> F:
    """Logged in (else the login page) and an admin (else a 403 page that says why)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not g.editor.is_admin:
            return render_template("admin/forbidden.html"), 403
        return view(*args, **kwargs)

    # Lets a test find every admin-only route in the URL map, so none is missed.
    wrapper.admin_only = True  # type: ignore[attr-defined]
    return login_required(wrapper)  # type: ignore[return-value]


class LoginForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(_l("Email address"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


def too_many_attempts(limit: RequestLimit | None = None) -> FlaskResponse:
    """One answer for an IP or an account over its limit, whether or not the account exists."""
    page = render_template("admin/login.html", form=LoginForm(), too_many=True)
    return make_response(page, 429)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"], on_breach=too_many_attempts)
def login() -> str | Response:
    form = LoginForm()
    if form.validate_on_submit():
        email, password = form.email.data, form.password.data
        if throttle.account_locked(email):
            return too_many_attempts()
        editor = authenticate(email, password)
        if editor is not None:
            clear_session()
            session[sessions.COOKIE_KEY] = sessions.open_session(editor)
            editor.last_login_at = utcnow()
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        throttle.count_failure(email)
        flash(_("Unknown address or wrong password."), "error")
    return render_template("admin/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    sessions.revoke_session(session.get(sessions.COOKIE_KEY))
    db.session.commit()
    clear_session()
    return redirect(url_for("admin.login"))


def clear_session() -> None:
    """A new session for a login or a new password; the console's language stays chosen."""
    language = session.get(CONSOLE_LANGUAGE_KEY)
    session.clear()
    if language in LANGUAGES:
        session[CONSOLE_LANGUAGE_KEY] = language


@bp.post("/language")
def console_language() -> Response:
    """The menu's "Français | English": kept in the session, for every console page after.

    POST only (CSRFProtect checks its token); open before login, so the login page has it too.
    """
    language = request.form.get("language", "")
    if language not in LANGUAGES:
        abort(400)
    session[CONSOLE_LANGUAGE_KEY] = language
    return redirect(_safe_next(request.form.get("next")), code=303)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: a login link must not bounce the editor elsewhere.

    "//host" and "/\\host" are other sites to a browser; CR, LF or NUL would break the
    Location header. Anything doubtful goes to the dashboard.
    """
    dashboard = url_for("admin.dashboard")
    if not target or not target.startswith("/") or target[1:2] in ("/", "\\"):
        return dashboard
    if "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return dashboard
    try:
        parts = urlsplit(target)
    except ValueError:
        return dashboard
    return target if not (parts.scheme or parts.netloc) else dashboard
