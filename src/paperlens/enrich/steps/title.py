"""title: a short title for papers whose sources gave none, from the abstract's own words
(`paperlens.enrich.models.title`). The view shows it only while the paper has no title: a source's title
(the ICLR merge) and an LLM-written one (the llm-summary step applies first) both win over it, and
`extra["title_origin"]` says where a title that no source gave came from."""

from __future__ import annotations

from typing import Any

from paperlens.core.models import Paper
from paperlens.enrich.base import Step, StepResult
from paperlens.enrich.models.title import derive_title

DERIVED = "derived from the abstract"


class TitleStep(Step):
    name = "title"
    version = "1"
    priority = 200  # an LLM's title (priority 50) fills the field first
    order = 45
    model = "abstract-words"

    def run(self, papers: list[Paper]) -> list[StepResult]:
        results = []
        for paper in papers:
            if paper.title.strip():
                results.append(StepResult(paper.id, output={"title": None, "reason": "the source gives a title"}))
                continue
            found = derive_title(paper.abstract, paper.language)
            if found is None:
                results.append(StepResult(paper.id, output={"title": None, "reason": "no usable sentence"}))
            else:
                results.append(StepResult(paper.id, output={"title": found[0], "reason": found[1]},
                                          model=self.model))
        return results

    @classmethod
    def apply(cls, paper: Paper, output: dict[str, Any]) -> None:
        if not paper.title and output.get("title"):
            paper.title = output["title"]
            paper.extra["title_origin"] = f"{DERIVED} ({output.get('reason') or 'title step'})"
