"""GET /metrics: Prometheus text format, for a client address in METRICS_ALLOWED_IPS or an
active editor's bearer token. What it counts is newsletter/delivery/metrics.py."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from newsletter.admin.accounts import editor_for_token
from newsletter.delivery.metrics import LedgerCollector, SendCollector
from newsletter.extensions import csrf, limiter
from newsletter.web.client import in_networks

bp = Blueprint("metrics", __name__)


def _access() -> Response | None:
    """None when allowed; otherwise the refusal. A bearer token, if given, must be valid."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        if editor_for_token(token.strip()) is not None:
            return None
        refused = Response("a valid bearer token is required\n", 401, mimetype="text/plain")
        refused.headers["WWW-Authenticate"] = 'Bearer realm="newsletter"'
        return refused
    if in_networks(request.remote_addr, current_app.config["METRICS_ALLOWED_IPS"]):
        return None
    return Response("forbidden\n", 403, mimetype="text/plain")


@bp.get("/metrics")
@csrf.exempt
@limiter.exempt
def metrics() -> Response:
    refused = _access()
    if refused is not None:
        return refused
    # Not at the top: prometheus_client reads PROMETHEUS_MULTIPROC_DIR when first imported,
    # and the process entry points set it after importing the app (delivery/metrics.py).
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

    registry = CollectorRegistry()
    registry.register(SendCollector(current_app.extensions["metrics_samples_dir"]))  # type: ignore[arg-type]
    registry.register(LedgerCollector())  # type: ignore[arg-type]
    response = Response(generate_latest(registry), 200)
    response.headers["Content-Type"] = CONTENT_TYPE_PLAIN_0_0_4
    response.headers["Cache-Control"] = "no-store"
    return response
