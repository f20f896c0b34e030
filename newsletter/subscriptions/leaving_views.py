"""The optional question after an unsubscribe, and its answer (leaving.py counts it).

The question is the page the unsubscribe POST answers; the answer is one POST with CSRF and
the survey token. Every refusal is a 4xx that counts nothing.
"""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as BaseResponse

from newsletter.subscriptions import leaving
from newsletter.subscriptions.blueprint import bp
from newsletter.subscriptions.forms import ButtonForm

Page = str | tuple[str, int] | BaseResponse

PROBLEMS = {
    ("reason", "unknown"): _l("Please choose one of the reasons listed."),
    ("comment", "control"): _l("Your comment contains characters we cannot keep."),
    ("comment", "too-long"): _l("Your comment is too long: 1,000 characters at most."),
}


def leave_question(
    survey_token: str,
    *,
    problem: leaving.BadAnswer | None = None,
    reason: str | None = None,
    comment: str = "",
) -> str:
    """ "You are unsubscribed", then the question, in the page's language."""
    return render_template(
        "web/leaving.html",
        state="ask",
        form=ButtonForm(),
        survey=survey_token,
        reasons=leaving.REASONS,
        action=url_for("subscriptions.answer_leaving", lang=str(get_locale() or "fr")),
        problem=PROBLEMS.get((problem.field, problem.problem)) if problem else None,
        problem_field=problem.field if problem else None,
        chosen=reason,
        comment=comment,
        comment_max=leaving.COMMENT_MAX,
    )


def _page(state: str, status: int = 200) -> tuple[str, int]:
    return render_template("web/leaving.html", state=state), status


@bp.post("/leaving")
def answer_leaving() -> Page:
    """Count the answer once per survey token; CSRF is checked before this runs."""
    token = request.form.get("survey", "")
    try:
        survey = leaving.read_survey(token)
    except leaving.ExpiredSurvey:
        return _page("closed", 410)
    except leaving.ForgedSurvey:
        return render_template("web/message.html", kind="invalid-link"), 400
    reason, comment = request.form.get("reason"), request.form.get("comment", "")
    try:
        answer = leaving.check_answer(reason, comment)
    except leaving.BadAnswer as bad:
        # The token is not used: the reader can correct the answer and send it again.
        return leave_question(token, problem=bad, reason=reason, comment=comment), 400
    if answer is None:
        return _page("thanks")
    if not leaving.take_survey(survey):
        return _page("already", 409)
    leaving.count_answer(survey, answer)
    return _page("thanks")
