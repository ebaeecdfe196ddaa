"""A digest's text: subject, HTML and plain text from the ranked papers (every value escaped)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

from paperlens.core.models import SUMMARY_FIELDS, SUMMARY_LABELS, Paper


@dataclass
class DigestItem:
    paper: Paper
    score: float
    reasons: list[str]

    def link(self) -> str:
        if self.paper.arxiv_id:
            return f"https://arxiv.org/abs/{self.paper.arxiv_id}"
        if self.paper.doi:
            return f"https://doi.org/{self.paper.doi}"
        return ""

    def summary_lines(self) -> list[tuple[str, str]]:
        """(label, text) of the LLM summary (English first), else the tl;dr."""
        for lang in ("en", *sorted(self.paper.summary)):
            summary = self.paper.summary.get(lang)
            if summary is not None and not summary.is_empty():
                return [(SUMMARY_LABELS[f][2], getattr(summary, f)) for f in SUMMARY_FIELDS if getattr(summary, f)]
        return [("TL;DR", self.paper.tldr)] if self.paper.tldr else []


@dataclass
class Digest:
    profile: str
    day: str
    items: list[DigestItem]
    problems: list[str] = field(default_factory=list)
    page_url: str | None = None
    notes: list[str] = field(default_factory=list)  # how it was ranked (e.g. the LLM relevance judgements)

    @property
    def subject(self) -> str:
        return f"paperlens {self.profile} · {self.day}: {len(self.items)} new paper{'s' * (len(self.items) != 1)}"

    def paper_ids(self) -> list[str]:
        return [item.paper.id for item in self.items]

    def text(self) -> str:
        lines = [self.subject, "=" * min(72, len(self.subject)), ""]
        for n, item in enumerate(self.items, 1):
            paper = item.paper
            lines.append(f"{n}. {paper.title}")
            if paper.authors:
                lines.append("   " + _authors(paper))
            if item.link():
                lines.append("   " + item.link())
            for label, value in item.summary_lines():
                lines.append(f"   {label}: {value}")
            lines.append("   why: " + "; ".join(item.reasons))
            lines.append("")
        lines += ["--", *self.footer()]
        return "\n".join(lines) + "\n"

    def footer(self) -> list[str]:
        out = [f"Ranked for profile {self.profile!r} by paperlens on {self.day}."]
        out += self.notes
        if self.page_url:
            out.append(f"All digests: {self.page_url}")
        if self.problems:
            out.append("Problems in this run (a rerun of `paperlens daily` retries them):")
            out += [f"  - {p}" for p in self.problems]
        return out

    def html(self) -> str:
        parts = ["<!doctype html><html><head><meta charset=\"utf-8\">",
                 f"<title>{escape(self.subject)}</title></head>",
                 "<body style=\"font-family:system-ui,sans-serif;max-width:46em;margin:auto;line-height:1.45\">",
                 f"<h1 style=\"font-size:1.3em\">{escape(self.subject)}</h1><ol>"]
        for item in self.items:
            paper = item.paper
            title = escape(paper.title)
            if item.link():
                title = f"<a href=\"{escape(item.link(), quote=True)}\">{title}</a>"
            parts.append(f"<li style=\"margin-bottom:1.2em\"><strong>{title}</strong>")
            if paper.authors:
                parts.append(f"<br><small>{escape(_authors(paper))}</small>")
            for label, value in item.summary_lines():
                parts.append(f"<br><b>{escape(label)}:</b> {escape(value)}")
            parts.append("<br><small style=\"color:#555\">why: " + escape("; ".join(item.reasons)) + "</small></li>")
        parts.append("</ol><hr><footer><small>")
        parts.append("<br>".join(escape(line) for line in self.footer()))
        parts.append("</small></footer></body></html>")
        return "".join(parts)

    def as_record(self) -> dict[str, Any]:
        return {"text": self.text(), "html": self.html(), "problems": self.problems,
                "items": [{"id": i.paper.id, "title": i.paper.title, "score": round(i.score, 4),
                           "reasons": i.reasons} for i in self.items]}


def _authors(paper: Paper, most: int = 6) -> str:
    names = paper.authors[:most]
    more = len(paper.authors) > most or paper.authors_truncated
    return ", ".join(names) + (" et al." if more else "")
