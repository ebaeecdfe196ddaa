"""👍/👎 controls for reader profiles (issue 17), shown only by a server that has a write token: a read-only
deployment and the static site render no control at all.

The controls are plain HTML; static/app.js (no inline script: the CSP is script-src 'self') posts each
click to POST /api/profiles/NAME/feedback with the token the reader entered once (kept in the browser's
localStorage), marks the pressed button, and says in the page's language what went wrong (a 401 asks for
the token again, a 403 says writing is off). Pressing a pressed button clears the mark."""

from __future__ import annotations

import json
import sqlite3
from html import escape
from urllib.parse import quote

from markupsafe import Markup

from paperlens.store import Store

_MESSAGES = ("need_token", "token_saved", "token_forgotten", "saved", "cleared", "denied", "off", "failed", "offline")


def feedback_url(name: str) -> str:
    return f"/api/profiles/{quote(name, safe='')}/feedback"


def token_bar(t: dict[str, str]) -> str:
    """The token field (hidden until app.js runs: without it nothing could be posted) and the status line."""
    messages = json.dumps({key: t[f"fb_{key}"] for key in _MESSAGES}, ensure_ascii=False)
    return (f"<div class=\"pl-fb-bar\" data-fb-bar data-fb-messages=\"{escape(messages, quote=True)}\">"
            f"<p class=\"muted\">{escape(t['fb_intro'])}</p>"
            "<form class=\"pl-fb-token\" data-fb-token-form hidden>"
            f"<label>{escape(t['fb_token'])} <input type=\"password\" name=\"token\" autocomplete=\"off\" "
            "spellcheck=\"false\"></label> "
            f"<button type=\"submit\">{escape(t['fb_save'])}</button> "
            f"<button type=\"button\" data-fb-forget>{escape(t['fb_forget'])}</button></form>"
            "<p class=\"pl-fb-status\" role=\"status\" aria-live=\"polite\" data-fb-status></p></div>")


def buttons(name: str, paper_id: str, mark: int | None, t: dict[str, str]) -> str:
    """👍 and 👎 for one paper and profile; `mark` (+1, -1 or None) says which is pressed."""
    out = [f"<span class=\"pl-fb\" data-fb-url=\"{escape(feedback_url(name), quote=True)}\" "
           f"data-fb-profile=\"{escape(name, quote=True)}\" data-fb-paper=\"{escape(paper_id, quote=True)}\">"]
    for label, emoji, value in (("up", "👍", 1), ("down", "👎", -1)):
        title = escape(t[f"fb_{label}"], quote=True)
        out.append(f"<button type=\"button\" data-label=\"{label}\" aria-pressed=\"{'true' if mark == value else 'false'}\" "
                   f"title=\"{title}\" aria-label=\"{emoji} {title}\">{emoji}</button>")
    out.append("</span>")
    return "".join(out)


def paper_panel(store: Store, paper_id: str, t: dict[str, str]) -> Markup | None:
    """The paper page's panel: one row per profile, its current mark pressed; None without profiles."""
    try:
        names = store.profile_names()
        marks = store.paper_marks(paper_id)
    except sqlite3.OperationalError:  # a database from before profiles (migration 6)
        return None
    if not names:
        return None
    rows = "".join(f"<li><a href=\"/profiles/{escape(quote(n, safe=''), quote=True)}/\">{escape(n)}</a> "
                   f"{buttons(n, paper_id, marks.get(n), t)}</li>" for n in names)
    return Markup(f"{token_bar(t)}<ul class=\"compact pl-fb-list\">{rows}</ul>")
