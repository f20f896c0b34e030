"""Reading bounce reports: a generic JSON body, RFC 3464 DSNs and RFC 5965 ARF complaints.

Pure: bytes or JSON in, `Event`s out, no database. Anything unreadable raises `Junk` with a
reason that the webhook answers and the CLI prints.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message
from email.parser import HeaderParser
from typing import Any

MAX_EVENTS = 1000
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_MESSAGE_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")


class Junk(ValueError):
    """Not a bounce report we can read; the message is the reason (safe to show the sender)."""


class Kind(enum.StrEnum):
    HARD = "hard-bounce"
    SOFT = "soft-bounce"
    COMPLAINT = "complaint"


@dataclass(frozen=True)
class Event:
    kind: Kind
    # The address the report names (lower-cased), and/or the Message-ID of our original message.
    email: str | None
    message_id: str | None
    status: str | None = None
    diagnostic: str | None = None
    # What makes the same report, seen twice, the same event (hashed before it is stored).
    key: str = ""


def event_key(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p or "") for p in parts).encode()).hexdigest()


# --- the generic JSON body -------------------------------------------------------------------


def parse_json(raw: bytes) -> list[Event]:
    """{"events": [{"type": "bounce"|"complaint", "email", "message_id", "status", ...}]}."""
    try:
        data: Any = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Junk("the body is not JSON") from None
    items = data.get("events") if isinstance(data, dict) else None
    if isinstance(data, dict) and items is None and "type" in data:
        items = [data]  # a single event, not wrapped
    if not isinstance(items, list) or not items:
        raise Junk('expected {"events": [...]} with at least one event')
    if len(items) > MAX_EVENTS:
        raise Junk(f"at most {MAX_EVENTS} events per request")
    return [_json_event(i, item) for i, item in enumerate(items)]


def _json_event(index: int, item: Any) -> Event:
    if not isinstance(item, dict):
        raise Junk(f"event {index}: not an object")
    fields = {k: item.get(k) for k in ("type", "email", "message_id", "status", "diagnostic")}
    if any(v is not None and not isinstance(v, str) for v in fields.values()):
        raise Junk(f"event {index}: type, email, message_id, status and diagnostic are strings")
    email = _address(fields["email"])
    message_id = _message_id(fields["message_id"])
    if email is None and message_id is None:
        raise Junk(f"event {index}: names no recipient (email or message_id)")
    kind = _json_kind(index, fields["type"], fields["status"], item.get("bounce_type"))
    provider_id = item.get("id") or item.get("event_id")
    key = (
        event_key("json-id", provider_id)
        if isinstance(provider_id, str | int) and str(provider_id)
        else event_key("json", json.dumps(item, sort_keys=True, default=str))
    )
    status = _STATUS.search(fields["status"] or "")
    code = status.group(0) if status else None
    return Event(kind, email, message_id, code, _short(fields["diagnostic"]), key)


def _json_kind(index: int, type_: str | None, status: str | None, bounce_type: Any) -> Kind:
    if type_ == "complaint":
        return Kind.COMPLAINT
    if type_ != "bounce":
        raise Junk(f'event {index}: type must be "bounce" or "complaint"')
    if bounce_type in ("hard", "permanent"):
        return Kind.HARD
    if bounce_type in ("soft", "transient"):
        return Kind.SOFT
    match = _STATUS.search(status or "")
    if match is None:
        raise Junk(f'event {index}: a bounce needs a status such as "5.1.1" or "4.2.2"')
    return Kind.HARD if match.group(1) == "5" else Kind.SOFT


# --- RFC 3464 / RFC 5965 reports -------------------------------------------------------------


def parse_report(raw: bytes) -> list[Event]:
    """A multipart/report: delivery-status (RFC 3464) or feedback-report (RFC 5965)."""
    message = message_from_bytes(raw, policy=policy.compat32)
    if message.get_content_type() != "multipart/report" or not message.is_multipart():
        raise Junk("not a multipart/report message")
    report_type = str(message.get_param("report-type") or "").lower()
    report_id = _message_id(message.get("Message-ID")) or hashlib.sha256(raw).hexdigest()
    original = _original_headers(message)
    if report_type == "delivery-status":
        return _dsn_events(message, report_id, original)
    if report_type == "feedback-report":
        return _arf_events(message, report_id, original)
    raise Junk(f"report-type {report_type or '(none)'} is neither delivery-status nor feedback")


def _dsn_events(message: Message, report_id: str, original: Message | None) -> list[Event]:
    part = _part(message, "message/delivery-status")
    if part is None:
        raise Junk("delivery-status report without a message/delivery-status part")
    blocks = _field_blocks(part)
    message_id = _message_id(original.get("Message-ID")) if original else None
    events = []
    # The first block is about the message; each following one is about one recipient.
    for block in blocks[1:]:
        recipient = _address(_typed(block.get("Original-Recipient"))) or _address(
            _typed(block.get("Final-Recipient"))
        )
        action = (block.get("Action") or "").strip().lower()
        status = _STATUS.search(block.get("Status") or "")
        if recipient is None and message_id is None:
            continue
        if action == "failed" and status and status.group(1) == "5":
            kind = Kind.HARD
        elif action == "delayed" or (action == "failed" and status and status.group(1) == "4"):
            kind = Kind.SOFT
        else:
            continue  # delivered, relayed, expanded: nothing for us to do
        events.append(
            Event(
                kind,
                recipient,
                message_id,
                status.group(0) if status else None,
                _short(_typed(block.get("Diagnostic-Code"))),
                event_key("report", report_id, recipient, kind),
            )
        )
    if not events:
        raise Junk("the delivery-status report names no failed or delayed recipient")
    return events


def _arf_events(message: Message, report_id: str, original: Message | None) -> list[Event]:
    part = _part(message, "message/feedback-report")
    if part is None:
        raise Junk("feedback report without a message/feedback-report part")
    blocks = _field_blocks(part)
    fields = blocks[0] if blocks else Message()
    feedback_type = (fields.get("Feedback-Type") or "").strip().lower()
    if feedback_type not in ("abuse", "fraud", "virus", "other", ""):
        raise Junk(f"feedback type {feedback_type} is not a complaint")
    recipients = [_address(r) for r in fields.get_all("Original-Rcpt-To") or []]
    if not any(recipients) and original is not None:
        recipients = [_address(original.get("To"))]
    message_id = _message_id(original.get("Message-ID")) if original else None
    recipients = [r for r in recipients if r] or ([None] if message_id else [])
    if not recipients:
        raise Junk("the complaint names no recipient and no Message-ID")
    return [
        Event(
            Kind.COMPLAINT,
            r,
            message_id,
            None,
            feedback_type or None,
            event_key("report", report_id, r, Kind.COMPLAINT),
        )
        for r in recipients
    ]


def _part(message: Message, content_type: str) -> Message | None:
    for part in message.walk():
        if part.get_content_type() == content_type:
            return part
    return None


def _field_blocks(part: Message) -> list[Message]:
    """The header blocks of a delivery-status or feedback-report part, however email parsed it."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    text = payload if isinstance(payload, str) else ""
    chunks = re.split(r"\r?\n\s*\r?\n", text.strip())
    return [HeaderParser().parsestr(chunk.strip() + "\n") for chunk in chunks if chunk.strip()]


def _original_headers(message: Message) -> Message | None:
    """The headers of the message the report is about (message/rfc822 or text/rfc822-headers)."""
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        if content_type == "text/rfc822-headers":
            text = part.get_payload(decode=True)
            raw = text if isinstance(text, bytes) else b""
            return HeaderParser().parsestr(raw.decode("utf-8", "replace"))
    return None


def _typed(value: str | None) -> str | None:
    """'rfc822; reader@example.org' → 'reader@example.org' (other address types: None)."""
    if not value:
        return None
    kind, sep, rest = str(value).partition(";")
    if not sep:
        return str(value).strip()
    return rest.strip() if kind.strip().lower() in ("rfc822", "smtp") else None


def _address(value: str | None) -> str | None:
    if not value:
        return None
    text = str(value).strip()
    match = re.search(r"<([^<>\s]+@[^<>\s]+)>", text)
    text = (match.group(1) if match else text).strip()
    if "@" not in text or any(c in text for c in "\r\n\x00 ") or len(text) > 254:
        return None
    return text.lower()


def _message_id(value: str | None) -> str | None:
    match = _MESSAGE_ID.search(str(value or ""))
    return match.group(0) if match else None


def _short(value: str | None) -> str | None:
    return " ".join(str(value).split())[:500] if value else None


def parse_body(raw: bytes, content_type: str) -> list[Event]:
    """What the webhook was given: JSON by content type or first byte, else a report."""
    if "json" in content_type or raw.lstrip()[:1] in (b"{", b"["):
        return parse_json(raw)
    return parse_report(raw)
