"""The home page."""

from __future__ import annotations

from flask import Blueprint, render_template

from newsletter.models import Region, db

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> str:
    regions = db.session.execute(db.select(Region).order_by(Region.position)).scalars().all()
    return render_template("web/home.html", regions=regions)
