"""Local extractive steps: `digest` (six-field summary from the abstract's own sentences) and `tldr`.

A paper with no usable abstract gets an output whose fields are empty and whose reasons say why; a
crash while labelling is recorded as failed."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from paperlens.core.models import SUMMARY_FIELDS, Paper, Summary
from paperlens.enrich.base import Step, StepResult
from paperlens.enrich.models.digest import Digest, build_digest
from paperlens.enrich.models.roles import label_abstracts_scored, model_version, split_sentences

# Bump when the digest/TL;DR rules change; the role model's version is part of the step version too.
RULES_VERSION = "2"  # 2: TL;DR sentence in no field, discourse words dropped, only confident roles fill fields
STEP_VERSION = f"roles{model_version()}-rules{RULES_VERSION}"

# `digest` and `tldr` run one after the other over the same papers: keep recent digests so the
# second step does not embed the same sentences again.
_RECENT: OrderedDict[tuple[str, str], Digest] = OrderedDict()
_RECENT_MAX = 4096


def digests_for(papers: list[Paper]) -> dict[str, Digest | Exception]:
    """Digest per paper id; English abstracts in the batch share one embedding call."""
    out: dict[str, Digest | Exception] = {}
    todo = []
    for paper in papers:
        key = (paper.language, paper.abstract)
        if key in _RECENT:
            out[paper.id] = _RECENT[key]
        else:
            todo.append(paper)
    english = [p for p in todo if p.language == "en" and len(split_sentences(p.abstract)) >= 2]
    roles_by_id: dict[str, list[tuple[str, float]]] = {}
    if english:
        try:
            labelled = label_abstracts_scored([split_sentences(p.abstract) for p in english])
            roles_by_id = {p.id: scored for p, scored in zip(english, labelled, strict=True)}
        except Exception as exc:  # the model itself failed: every English paper of the batch fails
            for paper in english:
                out[paper.id] = exc
    for paper in todo:
        if paper.id in out:
            continue
        try:
            scored = roles_by_id.get(paper.id)
            digest = build_digest(paper.abstract, paper.language, [r for r, _ in scored] if scored else None,
                                  [c for _, c in scored] if scored else None)
        except Exception as exc:  # one bad abstract fails alone
            out[paper.id] = exc
            continue
        out[paper.id] = digest
        _RECENT[(paper.language, paper.abstract)] = digest
        while len(_RECENT) > _RECENT_MAX:
            _RECENT.popitem(last=False)
    return out


def _results(papers: list[Paper], output_of: Callable[[Any], dict[str, Any]]) -> list[StepResult]:
    """One result a paper from its digest (digests_for): the step's part of it, or the digest's error."""
    results = []
    for paper_id, digest in digests_for(papers).items():
        if isinstance(digest, Exception):
            results.append(StepResult(paper_id, error=f"{type(digest).__name__}: {digest}"))
        else:
            results.append(StepResult(paper_id, output=output_of(digest), model=digest.method))
    return results


class DigestStep(Step):
    name = "digest"
    version = STEP_VERSION
    priority = 200  # LLM summaries (priority 50) fill fields first
    order = 40
    model = "csabstruct-roles"

    def run(self, papers: list[Paper]) -> list[StepResult]:
        return _results(papers, lambda digest: digest.to_output())

    @classmethod
    def apply(cls, paper: Paper, output: dict[str, Any]) -> None:
        fields = (output.get("summary") or {}).get(paper.language)
        if not fields:
            return
        current = paper.summary.get(paper.language) or Summary()
        for name in SUMMARY_FIELDS:
            if not getattr(current, name) and fields.get(name):
                setattr(current, name, fields[name])
        if not current.is_empty():
            paper.summary[paper.language] = current


class TldrStep(Step):
    name = "tldr"
    version = STEP_VERSION
    priority = 200
    order = 50
    model = "csabstruct-roles"

    def run(self, papers: list[Paper]) -> list[StepResult]:
        return _results(papers, lambda digest: {"tldr": digest.tldr, "reason": digest.tldr_reason})

    @classmethod
    def apply(cls, paper: Paper, output: dict[str, Any]) -> None:
        if not paper.tldr and output.get("tldr"):
            paper.tldr = output["tldr"]
