"""What the API answers, as models for the OpenAPI document (the views build plain JSON).

They are not checked at run time (openapi.py says why); the Schemathesis test
(tests/api/test_openapi_conformance.py) checks the answers against them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from spectree import Response as Answers

from newsletter.models import DeliveryState


def described(
    *, body: bool = False, query: bool = False, public: bool = False, **codes: Any
) -> Answers:
    """An operation's answers: `codes` (HTTP_200=Model...), and those every request may get.

    Without a token, 401; a body unreadable (400), too large (413) or not JSON (415), and a
    query string with a NUL (400), refused before the view (newsletter/web/requests.py).
    """
    common: dict[str, Any] = {} if public else {"HTTP_401": Problem}
    if body or query:
        common["HTTP_400"] = Problem
    if body:
        common |= {"HTTP_413": Problem, "HTTP_415": Problem}
    return Answers(**(common | codes))


class Problem(BaseModel):
    """An error: a slug and a sentence."""

    error: str = Field(examples=["not_found"])
    message: str


class Invalid(BaseModel):
    """Fields refused, each with its messages."""

    error: str = Field(examples=["invalid"])
    errors: dict[str, list[str]]


class OutOfRange(BaseModel):
    """A sentence, and the fields whose values are out of range (422), or only the sentence."""

    error: str = Field(examples=["invalid"])
    message: str
    errors: dict[str, str] | None = None


class Article(BaseModel):
    id: int
    guid: str
    url: str
    title: str
    published_at: str = Field(description="ISO 8601, UTC")
    lead: str
    summary: str = Field(description="The lead as sanitized HTML.")
    author: str | None
    section: str | None
    regions: list[str]
    needs_region: bool
    tags: list[str]
    image_url: str | None
    updated_at: str


class ArticleSaved(BaseModel):
    outcome: str = Field(examples=["created", "updated", "unchanged"])
    article: Article


class Articles(BaseModel):
    articles: list[Article]


class Feed(BaseModel):
    id: int
    url: str
    title: str | None
    active: bool
    last_polled_at: str | None
    last_success_at: str | None
    last_error: str | None
    last_error_at: str | None


class FeedSaved(BaseModel):
    feed: Feed


class Feeds(BaseModel):
    feeds: list[Feed]


class Window(BaseModel):
    since: str | None
    until: str | None


class Counts(BaseModel):
    planned: int
    pending: int
    sent: int
    skipped: int
    failed: int
    bounced: int = Field(description="Failed with a permanent reply from the relay.")
    uncertain: int = Field(description="Handed to the relay, reply lost.")
    other: int


class DigestReport(BaseModel):
    id: int
    edition_key: str
    kind: str = Field(examples=["special", "weekly"])
    status: str = Field(examples=["planned", "sending", "paused", "finished", "cancelled"])
    window: Window
    regions: list[str] | None = Field(description="null: every region.")
    intro: str | None
    pinned_article_id: int | None
    created_by: str | None
    created_at: str | None
    send_at: str | None = Field(description="A scheduled edition's time to leave; null: at once.")
    planned_at: str | None
    finished_at: str | None
    counts: Counts


class Progress(BaseModel):
    """A sending's counts by delivery state, from the ledger's rows."""

    digest_id: int
    status: str
    pause_reason: str | None
    total: int
    done: int
    counts: dict[DeliveryState, int]
    messages_per_second: float | None


class UncertainDelivery(BaseModel):
    id: int
    email: str
    message_id: str | None
    handoff_at: str | None
    reply: str | None


class Uncertain(BaseModel):
    digest_id: int
    count: int
    deliveries: list[UncertainDelivery]
    settled: int | None = Field(None, description="After settling: how many became sent.")


class SentAgain(BaseModel):
    digest_id: int
    sent_again: int


class Accepted(BaseModel):
    status: str = Field(examples=["accepted"])
    message: str


class SubscriptionRefused(BaseModel):
    """`invalid` with each field's message in the reader's language, or `rejected`."""

    error: str
    fields: dict[str, str] | None = None
    message: str | None = None
