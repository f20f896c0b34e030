"""List-Unsubscribe: the URL every digest carries leads to this service, and it answers."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from flask import current_app
from werkzeug.exceptions import HTTPException

from newsletter.doctor.report import Check, fail, ok, warning
from newsletter.subscriptions.tokens import reader_links

NAME = "List-Unsubscribe"
# No reader has id 0: the link is signed as a digest's are, and following it changes nothing.
NOBODY = 0


def check_unsubscribe_link() -> Check:
    """Built from BASE_URL, routed for GET and one-click POST, and (if reachable) answered."""
    base = current_app.config["BASE_URL"]
    url = reader_links(NOBODY).unsubscribe_url
    if not url.startswith(f"{base}/"):
        return fail(NAME, f"{url} does not start with BASE_URL {base}", "report this as a bug")
    path = urlsplit(url[len(base) :]).path  # the route, below BASE_URL's own path if any
    adapter = current_app.url_map.bind("doctor")
    for method in ("GET", "POST"):
        try:
            endpoint, _ = adapter.match(path, method=method)
        except HTTPException:
            endpoint = None
        if endpoint != "subscriptions.unsubscribe":
            return warning(NAME, f"{method} {path} is not routed in this process (no web pages?)")
    try:
        # GET is the reader's page; it only shows a button. The one-click POST is not tried.
        answer = httpx.get(url, timeout=5.0, follow_redirects=False)
    except httpx.HTTPError as exc:
        return warning(
            NAME,
            f"{base}/unsubscribe/... is routed, but {base} did not answer from here: {exc}",
            "run the doctor where BASE_URL is reachable to test the link itself",
        )
    if answer.status_code == 400:
        return fail(
            NAME,
            f"{base} refused our signed link as invalid: it runs with another SECRET_KEY",
            "give the web processes and the workers the same SECRET_KEY",
        )
    if answer.is_redirect:
        return fail(
            NAME,
            f"{base}/unsubscribe/... redirects to {answer.headers.get('location')}: "
            "mail clients do not follow a redirect with the one-click POST",
            "set BASE_URL to the address the redirect leads to",
        )
    if answer.status_code != 200:
        return fail(
            NAME,
            f"GET {base}/unsubscribe/... answered {answer.status_code}, not 200",
            "make BASE_URL point at this service",
        )
    return ok(NAME, f"{base}/unsubscribe/... answers GET, POST routed for one-click")
