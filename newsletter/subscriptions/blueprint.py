"""The subscription pages' blueprint, and what its two page modules share: the form and its
confirmation (views.py), the pages reached from signed links (links.py)."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request
from flask_babel import refresh
from flask_wtf.csrf import CSRFError

from newsletter.subscriptions.consent import form_version
from newsletter.subscriptions.service import Provenance

bp = Blueprint("subscriptions", __name__)


def provenance(
    source: str, language: str | None = None, *, digest_id: int | None = None
) -> Provenance:
    """Who asked: the client address as TRUSTED_PROXIES allows (web/client.py), never a raw
    X-Forwarded-For; and the edition whose letter held the link, when it says."""
    return Provenance(
        ip=request.remote_addr,
        user_agent=request.user_agent.string or None,
        source=source,
        form_version=form_version(language) if language else None,
        digest_id=digest_id,
    )


def speak(language: str) -> None:
    """From here on the request speaks the reader's chosen language, not the browser's."""
    g.language = language
    refresh()


@bp.errorhandler(429)
def too_many(error: Exception) -> tuple[str, int]:
    return render_template("web/message.html", kind="too-many"), 429


@bp.errorhandler(CSRFError)
def csrf_error(error: CSRFError) -> tuple[str, int]:
    return render_template("web/message.html", kind="csrf"), 400
