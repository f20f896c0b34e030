"""Steps a browser test takes through the console, and what it reads in the page's console."""

from __future__ import annotations

from typing import Any


def log_in(page: Any, live_url: str, email: str, password: str) -> None:
    """Through the real login form, as an editor does; lands on the dashboard (in French)."""
    page.goto(f"{live_url}/admin/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:text('Tableau de bord')")


def csp_violations(console: list[str]) -> list[str]:
    """The Content-Security-Policy refusals among what the page wrote to the console."""
    return [text for text in console if "Content Security Policy" in text]
