"""Issue 18: papers whose sources give no title (the sample's 002 and 003 pages) get a short title derived from
the abstract's own words, marked as derived; an LLM's title or a source's real title wins over it."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from paperlens.cli import main
from paperlens.core.models import Paper
from paperlens.enrich.models.title import _TRAILING, MAX_WORDS, derive_title, plain
from paperlens.enrich.registry import apply_outputs
from paperlens.enrich.views import display_title

from .conftest import sample


def run(db, *args):
    result = CliRunner().invoke(main, ["--db", str(db), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_method_name_and_what_it_is():
    title, how = derive_title(
        "Large language models remain fragile. To address this challenge, we propose GuardSpace, a guardrail "
        "framework for preserving safety alignment throughout fine-tuning, composed of two components. "
        "Experiments show gains.")
    assert title.startswith("GuardSpace: ") and "guardrail framework for preserving safety alignment" in title.lower()
    assert how == "the proposal sentence"
    title, _ = derive_title("Models hallucinate. We propose \\textbf{PretrainRL}, a novel framework that integrates "
                            "reinforcement learning into pretraining. It works well on three benchmarks.")
    assert title.startswith("PretrainRL: ") and "novel" not in title.lower()
    title, _ = derive_title("Agents need data. We introduce AgentSynth, a scalable and cost-efficient pipeline for "
                            "synthesizing tasks. It is cheap.")
    assert title == "AgentSynth: Cost-efficient pipeline for synthesizing tasks"


def test_no_name_no_proposal_and_other_languages():
    title, how = derive_title("Reinforcement learning (RL) has recently become the core paradigm for aligning large "
                              "language models with human intent across many tasks and domains. It is costly.")
    assert how == "the first sentence's opening words"
    assert "(RL)" not in title and len(title.split()) <= MAX_WORDS
    assert title.split()[-1].lower() not in _TRAILING
    assert derive_title("") is None and derive_title("Un résumé en français.", "fr") is None
    assert derive_title("本文提出了一种知识编辑框架,显著提升了可靠性。", "zh")[0] == "知识编辑框架"


@pytest.fixture(scope="module")
def enriched(tmp_path_factory):
    db = tmp_path_factory.mktemp("titles") / "t.db"
    run(db, "ingest", "--as-of", "2026-11-23", *(str(sample(p)) for p in ("000", "001", "002", "003")))
    run(db, "enrich", "--steps", "title")
    return db


def test_every_untitled_sample_paper_gets_words_of_its_own_abstract(enriched):
    from paperlens.enrich.views import export_papers
    from paperlens.store import Store

    store = Store(str(enriched), readonly=True)
    untitled = derived = 0
    for raw in store.iter_papers():
        if raw.title:
            continue
        untitled += 1
        (paper,) = [p for p in export_papers(store) if p.id == raw.id] if untitled <= 3 else [None]
        output = (store.enrichments_for(raw.id).get("title") or {}).get("output") or {}
        title = output.get("title")
        if not title:
            continue
        derived += 1
        words = re.findall(r"[\w\-]+", title)
        assert 2 <= len(title.split()) <= MAX_WORDS + 1, title
        source = plain(raw.abstract).lower()
        assert all(w.lower() in source for w in words), (title, raw.abstract[:200])
        assert title.split()[-1].lower() not in _TRAILING, title
        if paper is not None:
            assert paper.title == title and paper.extra["title_origin"].startswith("derived from the abstract")
    assert untitled > 600 and derived / untitled >= 0.95, (derived, untitled)


def test_cli_search_similar_and_show_never_say_untitled(enriched):
    out = run(enriched, "search", "reasoning")
    assert "(untitled)" not in out and out.count("[") >= 10
    pid = re.search(r"\[([^\]]+)\]", out).group(1)
    similar = run(enriched, "similar", pid)
    assert "(untitled)" not in similar
    shown = run(enriched, "show", pid)
    assert "(untitled)" not in shown


def test_web_shows_derived_titles_marked_and_never_untitled(enriched):
    from fastapi.testclient import TestClient

    from paperlens.web.app import create_app

    with TestClient(create_app(str(enriched))) as client:
        listing = client.get("/search?q=reasoning").text
        assert "(untitled)" not in listing and "derived-title" in listing
        pid = re.search(r'href="/papers/([^"]+)"><mark>[^<]*</mark>[^<]*</a> <span class="derived-title"',
                        listing).group(1)
        page = client.get(f"/papers/{pid}").text
        assert "derived-title" in page and "derived from the abstract" in page


def test_an_llm_title_replaces_the_derived_one_and_a_source_title_wins():
    untitled = Paper(id="p1", abstract="We propose GuardSpace, a guardrail framework for safety. It works.")
    derived = {"step": "title", "status": "ok", "output": {"title": "GuardSpace: Guardrail framework for safety",
                                                           "reason": "the proposal sentence"}}
    llm = {"step": "llm-summary", "status": "ok", "output": {"title": "Keeping LLMs safe while fine-tuning",
                                                              "provenance": {"model": "m"}}}
    view = apply_outputs(untitled, {"title": derived})
    assert view.title.startswith("GuardSpace") and view.extra["title_origin"].startswith("derived")
    view = apply_outputs(untitled, {"title": derived, "llm-summary": llm})
    assert view.title == "Keeping LLMs safe while fine-tuning" and "LLM" in view.extra["title_origin"]
    titled = Paper(id="p1", title="GuardSpace: Preserving Safety Alignment", abstract=untitled.abstract)
    view = apply_outputs(titled, {"title": derived, "llm-summary": llm})
    assert view.title == "GuardSpace: Preserving Safety Alignment" and "title_origin" not in view.extra


def test_display_title_never_cuts_a_word():
    long = ("Word " * 60).strip() + "."
    shown = display_title(Paper(id="x", abstract=long))
    assert shown.endswith("…") and shown[:-1].split()[-1] == "Word"
