"""Issue 18, tags: glued keyword fields split, one tag (and one display form) per keyword whatever its case,
hyphens or plural, each paper keeping its own spelling; acronyms kept. Issue 15: one plural rule."""

from __future__ import annotations

import pytest

from paperlens.core.words import keyword_norm, singular, split_glued
from paperlens.enrich.models import keywords as keyword_model
from paperlens.enrich.models.tags import tag_label
from paperlens.store import Store
from paperlens.store import keyword_norm as store_norm

from .conftest import sample


def test_one_plural_rule_and_one_norm():
    assert keyword_model.singular is singular and store_norm is keyword_norm
    forms = ["Vision-Language Models", "vision language models", "Vision–Language Model", "vision-language model"]
    assert len({keyword_norm(f) for f in forms}) == 1
    assert keyword_norm("LLMs") == keyword_norm("llm") == "llm"
    assert keyword_norm("analysis") == "analysis" and keyword_norm("policies") == "policy"
    assert keyword_model.phrase_key("Pre-trained Models") == keyword_model.phrase_key("pretrained model")


def test_glued_keywords_split():
    assert split_glued(["Test-Time Training;Textual Optimization", "LLMs ; MLLMs", "SimPO); Data selection",
                        "RL, RLHF", "1,000 tasks"]) == [
        "Test-Time Training", "Textual Optimization", "LLMs", "MLLMs", "SimPO", "Data selection", "RL", "RLHF",
        "1,000 tasks"]


def test_acronyms_keep_their_case():
    assert tag_label("Moe") == tag_label("moe") == "MoE"
    assert tag_label("llms") == "LLMs" and tag_label("rlhf") == "RLHF"
    assert tag_label("vision language models") == "vision language models"


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    from click.testing import CliRunner

    from paperlens.cli import main

    db = tmp_path_factory.mktemp("tags") / "t.db"
    result = CliRunner().invoke(main, ["--db", str(db), "ingest", "--as-of", "2026-11-23",
                                       *(str(sample(p)) for p in ("000", "001", "002", "003"))])
    assert result.exit_code == 0, result.output
    return Store(str(db), readonly=True)


def test_sample_keywords_hold_no_glue_and_keep_each_papers_spelling(sample_store):
    spellings = [k for p in sample_store.iter_papers() for k in p.keywords]
    assert not [k for k in spellings if ";" in k or "；" in k]
    assert "Test-Time Training" in spellings and "Textual Optimization" in spellings
    assert "Moe" in spellings  # the paper's own spelling stays in its record


def test_the_tag_cloud_shows_one_form_per_tag(sample_store):
    from paperlens.web.catalog import Catalog

    catalog = Catalog(sample_store)
    labels = [info.label for info in catalog.keywords.values()]
    assert len(labels) == len({keyword_norm(label) for label in labels})
    vlm = [label for label in labels if keyword_norm(label) == "vision language model"]
    assert len(vlm) == 1
    assert catalog.keywords["moe"].label == "MoE"
    assert len(catalog.keywords["vision language model"].ids) >= 5
