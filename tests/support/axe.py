"""axe-core's WCAG 2.1 A and AA rules run on a page in Chromium (tests/support/axe/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "axe" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def violations(page: Any) -> list[str]:
    """What axe finds on the page as it is now, one line a rule; the page's context must have
    been opened with bypass_csp=True (the policy would rightly refuse the injected script)."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {json.dumps(v['nodes'][0]['target'])}"
        for v in result["violations"]
    ]
