"""Rendering: templates/email/<kind>/{subject.txt, body.txt, body.html} + data -> three strings.

Pure: no queries, no I/O beyond reading templates. HTML CSS is inlined for mail clients.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import css_inline
from flask import current_app
from flask_babel import force_locale

_INLINER = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(kind: str, *, language: str, **context: Any) -> RenderedEmail:
    """Render one email kind in a language; the subject is one line whatever the data."""
    env = current_app.jinja_env
    with force_locale(language):
        subject = env.get_template(f"email/{kind}/subject.txt").render(language=language, **context)
        text = env.get_template(f"email/{kind}/body.txt").render(language=language, **context)
        html = env.get_template(f"email/{kind}/body.html").render(language=language, **context)
    return RenderedEmail(subject=one_line(subject), text=text.strip() + "\n", html=inline_css(html))


def inline_css(html: str) -> str:
    return str(_INLINER.inline(html))


def one_line(text: str) -> str:
    """Header-safe: CR, LF and runs of white space become one space."""
    return " ".join(text.split())
