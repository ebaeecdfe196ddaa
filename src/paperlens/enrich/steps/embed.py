"""embed: a vector per paper (title + abstract) in the `embeddings` table, tagged with the embedder's name."""

from __future__ import annotations

from paperlens.core.models import Paper
from paperlens.enrich.base import Step, StepResult
from paperlens.enrich.models.embed import get_embedder, paper_text


class EmbedStep(Step):
    name = "embed"
    version = "1"
    order = 10
    priority = 300

    def __init__(self, embedder: str | None = None):
        self.embedder = get_embedder(embedder)
        self.model = self.embedder.name
        self.version = f"{EmbedStep.version}:{self.embedder.name}"  # another embedder re-embeds everything
        self._vectors: dict[str, object] = {}

    def run(self, papers: list[Paper]) -> list[StepResult]:
        results, texts, todo = [], [], []
        for paper in papers:
            if not (paper.title or paper.abstract).strip():
                results.append(StepResult(paper.id, error="no title or abstract to embed"))
                continue
            texts.append(paper_text(paper.title, paper.abstract))
            todo.append(paper)
        vectors = self.embedder.encode(texts) if texts else []
        self._vectors = {}
        for paper, vector in zip(todo, vectors, strict=True):
            self._vectors[paper.id] = vector
            results.append(StepResult(paper.id, output={"model": self.embedder.name, "dim": int(vector.shape[0])},
                                      model=self.embedder.name))
        return results

    def after_batch(self, store, papers: list[Paper], results: list[StepResult]) -> None:
        by_id = {p.id: p for p in papers}
        store.save_embeddings([
            {"paper_id": r.paper_id, "model": self.embedder.name, "vector": self._vectors[r.paper_id],
             "content_hash": by_id[r.paper_id].content_hash()}
            for r in results if r.paper_id in self._vectors])
        self._vectors = {}
