"""The accounts pages: admins manage editors, API tokens and read the audit log; every editor
changes their own password from "My account".

Every change is a POST whose form carries the CSRF token; the account or token it names is a
field of the form, never part of the URL. A new password or token is shown once, in the
answer to the POST that made it (never stored in the session cookie), marked no-store.
"""

from __future__ import annotations

from datetime import datetime

from flask import (
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
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from newsletter.admin import account_changes, audit, sessions
from newsletter.admin.accounts import MIN_PASSWORD_LENGTH, LastAdmin, issue_token, revoke_token
from newsletter.admin.views import admin_required, bp, clear_session, login_required
from newsletter.models import ApiToken, Editor, EditorSession, db
from newsletter.models.editor import AuditEntry
from newsletter.web.requests import parse_id

ROLES = [SelectChoice("editor", _l("Editor")), SelectChoice("admin", _l("Administrator"))]
LAST_ADMIN = _l(
    "Refused: %(email)s is the last active administrator. Appoint another administrator first."
)


class NewEditorForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=320)])
    role = SelectField(_l("Role"), choices=ROLES, default="editor")


class EditorForm(FlaskForm):  # type: ignore[misc]
    """An action on one account: the button is the decision, the field names the account."""

    editor_id = HiddenField(validators=[DataRequired()])
    role = SelectField(_l("Role"), choices=ROLES, validate_choice=False)


class NewTokenForm(FlaskForm):  # type: ignore[misc]
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=100)])
    editor_id = SelectField(_l("For the account"), validate_choice=False)


class TokenForm(FlaskForm):  # type: ignore[misc]
    token_id = HiddenField(validators=[DataRequired()])


class PasswordForm(FlaskForm):  # type: ignore[misc]
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=_l(
                    "At least %(min)d characters (and at most 200).", min=MIN_PASSWORD_LENGTH
                ),
            ),
        ],
    )
    confirm = PasswordField(
        _l("New password, again"),
        validators=[DataRequired(), EqualTo("new", message=_l("The two entries differ."))],
    )


# --- editors ------------------------------------------------------------------------------


@bp.get("/accounts")
@admin_required
def accounts() -> str:
    editors = list(db.session.execute(db.select(Editor).order_by(Editor.email)).scalars())
    return render_template(
        "admin/accounts.html",
        editors=editors,
        last_seen=_last_seen(),
        new_form=NewEditorForm(),
        form=EditorForm(),
    )


def _last_seen() -> dict[int, datetime]:
    rows = db.session.execute(
        db.select(EditorSession.editor_id, db.func.max(EditorSession.last_seen_at)).group_by(
            EditorSession.editor_id
        )
    )
    return {editor_id: seen for editor_id, seen in rows}


@bp.post("/accounts/new")
@admin_required
def account_create() -> str | Response:
    form = NewEditorForm()
    if not form.validate_on_submit():
        flash(_("Give a valid email address and a role."), "error")
        return _to_accounts()
    try:
        editor, password = account_changes.create_editor(
            form.email.data, is_admin=form.role.data == "admin", by=g.editor
        )
    except ValueError:
        flash(_("This email address is not valid."), "error")
        return _to_accounts()
    except account_changes.EmailTaken as taken:
        flash(_("An account already exists for %(email)s.", email=taken), "error")
        return _to_accounts()
    return _secret_page("password", editor.email, password, created=True)


@bp.post("/accounts/role")
@admin_required
def account_role() -> Response:
    editor, form = _posted_editor()
    try:
        changed = account_changes.set_role(editor, is_admin=form.role.data == "admin", by=g.editor)
    except LastAdmin:
        flash(LAST_ADMIN % {"email": editor.email}, "error")
    else:
        if changed:
            flash(_role_changed(editor), "success")
    return _to_accounts()


@bp.post("/accounts/deactivate")
@admin_required
def account_deactivate() -> Response:
    editor, _form = _posted_editor()
    try:
        account_changes.deactivate(editor, by=g.editor)
    except LastAdmin:
        flash(LAST_ADMIN % {"email": editor.email}, "error")
    else:
        flash(
            _(
                "Account of %(email)s deactivated: their sessions are closed "
                "and their API tokens revoked.",
                email=editor.email,
            ),
            "success",
        )
    return _to_accounts()


@bp.post("/accounts/reactivate")
@admin_required
def account_reactivate() -> Response:
    editor, _form = _posted_editor()
    if account_changes.reactivate(editor, by=g.editor):
        flash(
            _("Account of %(email)s reactivated, with their former password.", email=editor.email),
            "success",
        )
    return _to_accounts()


@bp.post("/accounts/reset-password")
@admin_required
def account_reset_password() -> Response:
    editor, _form = _posted_editor()
    password = account_changes.reset_password(editor, by=g.editor)
    return _secret_page("password", editor.email, password, created=False)


def _posted_editor() -> tuple[Editor, EditorForm]:
    """The account an action's form names, after its CSRF token: 400, then 404."""
    form = EditorForm()
    if not form.validate_on_submit():
        abort(400)
    editor_id = parse_id(form.editor_id.data, Editor.id)
    editor = db.session.get(Editor, editor_id) if editor_id else None
    if editor is None:
        abort(404)
    return editor, form


def _role_changed(editor: Editor) -> str:
    if editor.is_admin:
        return _("%(email)s is now an administrator.", email=editor.email)
    return _("%(email)s is now an editor.", email=editor.email)


def _to_accounts() -> Response:
    return redirect(url_for("admin.accounts"), code=303)


def _secret_page(kind: str, email: str, secret: str, *, created: bool) -> Response:
    page = render_template(
        "admin/accounts_secret.html", kind=kind, email=email, secret=secret, created=created
    )
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- API tokens ---------------------------------------------------------------------------


@bp.get("/tokens")
@admin_required
def tokens() -> str:
    rows = db.session.execute(
        db.select(ApiToken, Editor)
        .join(Editor, Editor.id == ApiToken.editor_id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
    ).all()
    new_form = NewTokenForm(editor_id=str(g.editor.id))
    active = db.session.execute(
        db.select(Editor).where(Editor.active.is_(True)).order_by(Editor.email)
    ).scalars()
    new_form.editor_id.choices = [SelectChoice(str(editor.id), editor.email) for editor in active]
    return render_template(
        "admin/accounts_tokens.html", rows=rows, new_form=new_form, form=TokenForm()
    )


@bp.post("/tokens/new")
@admin_required
def token_create() -> Response:
    form = NewTokenForm()
    if not form.validate_on_submit():
        flash(_("Give the token a name (100 characters at most)."), "error")
        return redirect(url_for("admin.tokens"), code=303)
    editor_id = parse_id(form.editor_id.data, Editor.id)
    editor = db.session.get(Editor, editor_id) if editor_id else None
    if editor is None or not editor.active:
        flash(_("Choose an active account."), "error")
        return redirect(url_for("admin.tokens"), code=303)
    token = issue_token(editor.email, name=form.name.data.strip(), by=g.editor)
    return _secret_page("token", editor.email, token, created=True)


@bp.post("/tokens/revoke")
@admin_required
def token_revoke() -> Response:
    form = TokenForm()
    if not form.validate_on_submit():
        abort(400)
    token_id = parse_id(form.token_id.data, ApiToken.id)
    try:
        row, revoked = revoke_token(token_id or 0, by=g.editor)
    except LookupError:
        abort(404)
    if revoked:
        flash(
            _(
                "Token “%(name)s” revoked: it is refused from now on.",
                name=row.name or _("unnamed"),
            ),
            "success",
        )
    return redirect(url_for("admin.tokens"), code=303)


# --- the audit log ------------------------------------------------------------------------


@bp.get("/audit")
@admin_required
def audit_log() -> str:
    before = parse_id(request.args.get("before"), AuditEntry.id)
    entries = audit.entries_before(before)
    older = entries[-1].id if len(entries) == audit.PAGE_SIZE else None
    return render_template(
        "admin/accounts_audit.html", entries=entries, label=audit.label, older=older
    )


# --- my account ---------------------------------------------------------------------------


@bp.get("/me")
@login_required
def my_account() -> str:
    return render_template("admin/accounts_me.html", form=PasswordForm())


@bp.post("/me/password")
@login_required
def my_password() -> tuple[str, int] | Response:
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            account_changes.change_own_password(g.editor, form.current.data, form.new.data)
        except ValueError:
            form.current.errors = [_("This is not your current password.")]
        else:
            # Every session ended with the old password; this browser gets a new one.
            clear_session()
            session[sessions.COOKIE_KEY] = sessions.open_session(g.editor)
            db.session.commit()
            flash(_("Password changed: your other sessions are closed."), "success")
            return redirect(url_for("admin.my_account"), code=303)
    return render_template("admin/accounts_me.html", form=form), 400
