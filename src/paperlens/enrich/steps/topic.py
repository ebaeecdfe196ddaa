"""topic: the label of the active taxonomy (setting/env PAPERLENS_TAXONOMY, default llm-2026) for each paper.

The output always records the classifier's best label and probability; a paper's view takes it only when
its sources gave it no topic."""

from __future__ import annotations

from typing import Any

from paperlens.core.models import Paper, Topic
from paperlens.enrich.base import Step, StepResult
from paperlens.enrich.models.taxonomy import active_taxonomy_name, load_taxonomy


class TopicStep(Step):
    name = "topic"
    version = "1"
    order = 20
    priority = 200

    def __init__(self, taxonomy: str | None = None):
        self.taxonomy = load_taxonomy(taxonomy or active_taxonomy_name())
        classifier = self.taxonomy.classifier  # fails now, not per batch, when the taxonomy is untrained
        self.model = f"{self.taxonomy.name}@{self.taxonomy.version}/{classifier.embedder or 'tfidf'}"
        self.version = f"{TopicStep.version}:{self.model}"

    @classmethod
    def create(cls, **options) -> TopicStep:
        return cls(options.get("taxonomy"))

    def run(self, papers: list[Paper]) -> list[StepResult]:
        results: list[StepResult] = []
        todo = []
        for paper in papers:
            if not (paper.title or paper.abstract).strip():
                results.append(StepResult(paper.id, error="no title or abstract to classify"))
            else:
                todo.append(paper)
        predictions = self.taxonomy.classify(
            [{"title": p.title, "abstract": p.abstract, "keywords": p.keywords} for p in todo])
        for paper, (label, score) in zip(todo, predictions, strict=True):
            results.append(StepResult(paper.id, model=self.model, output={
                "taxonomy": self.taxonomy.name, "label": label, "area": self.taxonomy.area_label,
                "score": round(score, 4)}))
        return results

    @classmethod
    def apply(cls, paper: Paper, output: dict[str, Any]) -> None:
        if paper.topic and (paper.topic.label or paper.topic.area):
            return
        paper.topic = Topic(area=output.get("area"), label=output.get("label"), score=output.get("score"))
