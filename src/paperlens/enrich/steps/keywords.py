"""keywords: five author-style keyword tags per paper from the local keyword model."""

from __future__ import annotations

from typing import Any

from paperlens.core.models import Paper
from paperlens.enrich.base import Step, StepResult


class KeywordsStep(Step):
    name = "keywords"
    version = "1"
    priority = 200
    default = True
    order = 30
    model = "paperlens-keywords-v1"

    def __init__(self, k: int = 5):
        from paperlens.enrich.models.keywords import default_model

        self.k = k
        self.keyword_model = default_model()

    def run(self, papers: list[Paper]) -> list[StepResult]:
        results = []
        for paper in papers:
            if not (paper.abstract or paper.title).strip():
                results.append(StepResult(paper.id, error="no title or abstract to take keywords from"))
                continue
            picked = self.keyword_model.extract(paper.title, paper.abstract, self.k)
            if not picked:
                results.append(StepResult(paper.id, error="no keyword candidates found in title/abstract"))
                continue
            results.append(StepResult(paper.id, output={"keywords": [p for p, _ in picked],
                                                        "scores": [s for _, s in picked]}))
        return results

    @classmethod
    def apply(cls, paper: Paper, output: dict[str, Any]) -> None:
        # Author keywords from a source always win over predicted ones.
        if not paper.keywords and output.get("keywords"):
            paper.keywords = list(output["keywords"])
