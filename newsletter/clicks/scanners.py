"""Which requests for a link are not a person reading: they are redirected, never counted.

Mail security gateways and link previewers fetch every link of a message as it arrives, to
check where it leads. A HEAD never counts (no browser follows a link with it). The agents
below announce themselves; a scanner posing as a browser is caught, if at all, by the time
rule in counting.py. The list is short on purpose: each entry is a product or a library that
fetches links on its own, not a person's browser. curl and wget are in it: a reader clicks in
a mail client, and scripts that fetch links are scanners far more often than readers.
"""

from __future__ import annotations

import re

SCANNER_AGENTS = (
    "bingpreview",  # Microsoft's link previews (Outlook, Safe Links)
    "safelinks",  # Microsoft Defender for Office 365
    "barracuda",  # Barracuda Email Security Gateway
    "proofpoint",  # Proofpoint URL Defense
    "mimecast",  # Mimecast URL Protect
    "google-safety",  # Google's link checker
    "googleimageproxy",  # Gmail's image proxy, fetching what looks like an image
    "symantec",  # Symantec / Broadcom email security
    "trendmicro",  # Trend Micro email security
    "forcepoint",  # Forcepoint email security
    "slackbot",  # link unfurling in chats a letter is pasted into
    "python-requests",
    "python-urllib",
    "go-http-client",
    "curl/",
    "wget/",
    "libwww-perl",
    "java/",
)
# Self-declared robots: "Googlebot", "bingbot", "AhrefsBot/7.0", "+http://…/bot.html".
_ROBOT = re.compile(r"bot\b|bot/|crawler|spider", re.IGNORECASE)


def is_scanner(method: str, user_agent: str) -> bool:
    """True for requests that are not a person following the link."""
    if method != "GET":
        return True
    agent = user_agent.strip().lower()
    if not agent:
        return True  # every browser and mail client sends one
    return any(name in agent for name in SCANNER_AGENTS) or bool(_ROBOT.search(agent))
