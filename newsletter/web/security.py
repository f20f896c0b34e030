"""Security headers on every response: one policy for the site, and the few pages that differ.

Talisman sets the Content-Security-Policy, X-Frame-Options, X-Content-Type-Options,
Referrer-Policy and Permissions-Policy headers; this module adds HSTS (when BASE_URL is https)
and `Cache-Control: no-store` on the pages that hold personal data.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request
from flask_talisman import DENY, SAMEORIGIN, Talisman
from werkzeug.wrappers import Response

# Our own pages: scripts and styles from our static files only, nothing from elsewhere, and
# never inside another page's frame.
SITE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

# An email's HTML served as a page: its styles are inline (mail clients read nothing else) and
# its images are remote; no script, no form, no plugin.
EMAIL_HTML_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "base-uri 'none'; form-action 'none'"
)
FRAMED_EMAIL_POLICY = f"{EMAIL_HTML_POLICY}; frame-ancestors 'self'"

# Endpoints that differ from the site: the emails' HTML, and the frames our own pages show.
OWN_HEADERS: dict[str, dict[str, Any]] = {
    "digests.view": {"content_security_policy": f"{EMAIL_HTML_POLICY}; frame-ancestors 'none'"},
    # The public archive's editions: an email's HTML as well, rendered for no reader.
    **{
        endpoint: {"content_security_policy": f"{EMAIL_HTML_POLICY}; frame-ancestors 'none'"}
        for endpoint in ("archive.edition", "archive.region_edition")
    },
    "admin.digest_preview_frame": {
        "content_security_policy": FRAMED_EMAIL_POLICY,
        "frame_options": SAMEORIGIN,
    },
    "admin.digest_special_preview": {
        "content_security_policy": FRAMED_EMAIL_POLICY,
        "frame_options": SAMEORIGIN,
    },
    # Development only: any message the service sent, sandboxed (no script, no form). Same
    # origin, so the mailbox's page can size the frame to its content: with no script the
    # message can do nothing with that origin.
    "devmail.html": {
        "content_security_policy": "sandbox allow-same-origin; default-src 'none'; "
        "img-src * data:; style-src 'unsafe-inline'; frame-ancestors 'self'",
        "frame_options": SAMEORIGIN,
    },
}

# Readers' pages (reached by a link that identifies the reader, or showing what they typed),
# the editors' pages, the API, the dev mailbox and the digests' web copies: no cache keeps them.
PRIVATE_BLUEPRINTS = frozenset({"subscriptions", "admin", "api", "devmail", "digests"})

HSTS_MAX_AGE = 365 * 86400


def init_app(app: Flask) -> None:
    """Call after the blueprints are registered: the per-endpoint headers attach to the views."""
    # One Talisman per app: it keeps its app and options on itself.
    talisman = Talisman(
        app,
        # TLS ends at the proxy: redirecting here would loop or break the health checks.
        force_https=False,
        strict_transport_security=False,  # see _hsts: decided by BASE_URL, not by the request
        frame_options=DENY,
        content_security_policy=SITE_POLICY,
        # A reader's token is in the URL of their pages: no Referer may carry it elsewhere.
        referrer_policy="no-referrer",
        # The session cookie keeps the flags create_app gave it.
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
        session_cookie_http_only=app.config["SESSION_COOKIE_HTTPONLY"],
    )
    for endpoint, options in OWN_HEADERS.items():
        view = app.view_functions.get(endpoint)
        if view is not None:
            talisman(**options)(view)
    app.extensions["talisman"] = talisman
    app.after_request(_hsts)
    app.after_request(_no_store)


def _hsts(response: Response) -> Response:
    """Behind the TLS proxy every request looks like plain HTTP, so the public URL decides.
    Browsers ignore the header on a plain-HTTP answer: sending it there does no harm."""
    if str(current_app.config["BASE_URL"]).startswith("https://"):
        response.headers["Strict-Transport-Security"] = f"max-age={HSTS_MAX_AGE}"
    return response


def _no_store(response: Response) -> Response:
    if request.blueprint in PRIVATE_BLUEPRINTS:
        response.headers["Cache-Control"] = "no-store"
    return response
