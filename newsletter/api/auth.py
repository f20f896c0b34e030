"""Bearer-token authentication for the editors' API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, jsonify, request

from newsletter.admin.accounts import editor_for_token

F = TypeVar("F", bound=Callable[..., Any])


def token_required(view: F) -> F:
    """401 JSON unless the request carries `Authorization: Bearer <token>` of an active editor."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        editor = editor_for_token(token.strip()) if scheme.lower() == "bearer" else None
        if editor is None:
            response = jsonify(error="unauthorized", message="a valid bearer token is required")
            response.headers["WWW-Authenticate"] = 'Bearer realm="newsletter"'
            return response, 401
        g.editor = editor
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
