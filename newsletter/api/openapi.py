"""The OpenAPI 3 document of /api/v1, made by spectree from the schemas that check requests.

GET /api/v1/openapi.json is the document; GET /api/v1/docs shows it as a page of our own,
rendered on the server: the site's Content-Security-Policy allows no inline script or style,
which the usual JavaScript viewers need. Both are public, like any API's description.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, render_template
from spectree import SecurityScheme, SecuritySchemeData, SpecTree
from spectree.models import SecureType
from spectree.plugins.base import Context
from spectree.plugins.flask_plugin import FlaskPlugin
from spectree.utils import get_multidict_items

from newsletter.api import bp

BEARER = "bearer"
METHODS = ("get", "post", "put", "patch", "delete")
# The component spectree documents its own refusals with (pydantic's errors, which we never send).
SPECTREE_REFUSAL = "ValidationError"


class StrictJsonPlugin(FlaskPlugin):
    """spectree's Flask plugin, reading bodies as the whole site does, answering as we wrote.

    spectree reads the body with `get_json(silent=True) or {}`: a body not declared JSON, or
    unreadable, or `[]`, would reach the schema as `{}`. Ours is read by Request.get_json, so a
    body not declared JSON is a 415 and unreadable JSON a 400 (newsletter/web/requests.py),
    and a list is refused as a list.
    """

    def request_validation(
        self, request: Any, query: Any, json: Any, form: Any, headers: Any, cookies: Any
    ) -> None:
        adapter = self.model_adapter
        request.context = Context(
            adapter.validate_obj(query, get_multidict_items(request.args, query))
            if query
            else None,
            adapter.validate_obj(json, request.get_json()) if json else None,
            None,
            None,
            None,
        )

    def validate_response(
        self, resp: Any, resp_model: Any, skip_validation: bool, force_resp_serialize: bool
    ) -> tuple[Response, None]:
        # Answers are described, not checked at run time: a mistake in the description must
        # not turn a good answer into a 500. The Schemathesis test checks them instead.
        return self.make_response_with_addition(resp), None


spec = SpecTree(
    backend=StrictJsonPlugin,
    # Only the views that declare their schemas: the rest of the site is no part of the API.
    mode="strict",
    # Components named after the models, as a reader of the document expects (each name is
    # used once across newsletter/api/schemas.py and answers.py).
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
    title="La Revue Internationale — newsletter API",
    description="Articles and feeds, editions and their sending, subscriptions. Every "
    "operation but the subscription needs an editor's API token (Authorization: Bearer …), "
    "created with `newsletter tokens create EMAIL`.",
    version="1",
    security_schemes=[
        SecurityScheme(
            name=BEARER,
            data=SecuritySchemeData(
                type=SecureType.HTTP, scheme="bearer", description="An editor's API token."
            ),
        )
    ],
    security={BEARER: []},
    # The models are read from the decorator's arguments only, never from the views' signatures.
    annotations=False,
)


@bp.get("/openapi.json")
def openapi_document() -> Response:
    return jsonify(document())


@bp.get("/docs")
def openapi_page() -> str:
    return render_template("api/docs.html", document=document(), methods=METHODS)


def document() -> dict[str, Any]:
    """The document, made at the first request (it reads the app's URL map) and then kept:
    it depends on the code only."""
    made: dict[str, Any] = spec.spec
    _without_spectree_refusals(made)
    return made


def _without_spectree_refusals(made: dict[str, Any]) -> None:
    """spectree lists its own 422 body on every operation, even one with no schema to refuse;
    ours are answered in our words (refusals.py), each documented by its own model."""
    for operations in made["paths"].values():
        for operation in operations.values():
            for status, answer in list(operation["responses"].items()):
                if SPECTREE_REFUSAL in str(answer):
                    del operation["responses"][status]
    for name in [n for n in made["components"]["schemas"] if n.startswith(SPECTREE_REFUSAL)]:
        del made["components"]["schemas"][name]
