"""The four seed documents parse with every field right."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest

from paperlens.core.models import SUMMARY_FIELDS
from paperlens.sources import detect_format, read_records
from paperlens.sources.base import Rejected
from paperlens.sources.seeds import split_title_authors

from .conftest import sample

AS_OF = date(2026, 11, 23)


def papers(prefix):
    records = list(read_records(sample(prefix), as_of=AS_OF))
    assert not [r for r in records if isinstance(r, Rejected)]
    return records


def test_formats_are_detected():
    assert detect_format(sample("000")) == "seed-author-page"
    assert detect_format(sample("001")) == "seed-feed"
    assert detect_format(sample("002")) == "seed-topic-digest"
    assert detect_format(sample("003")) == "seed-abstract-list"


def test_author_page_years_and_language():
    got = papers("000")
    assert [p.year for p in got] == [2026, 2026, 2026, 2025]
    assert all(p.authors == ["Qiaozhi He"] for p in got)
    assert [p.language for p in got] == ["en", "en", "en", "zh"]
    assert got[3].abstract.startswith("近年来") and not got[3].abstract.startswith('"')
    assert got[0].code_url == "https://github.com/takagi97/lisa"


def test_feed_fields():
    got = papers("001")
    assert len(got) == 20
    first = got[0]
    assert first.title == "Zero-shot Cross-lingual Conversational Semantic Role Labeling"
    assert first.authors == ["Han Wu", "Haochen Tan", "Kun Xu"] and first.authors_truncated
    assert first.org == "tencent-ai"
    assert first.categories == ["cs.CL"] and first.date == "2022-04-11"
    # 'LGFeb 3' has no year: it takes the year of --as-of
    assert got[1].date == "2026-02-03" and got[1].categories == ["cs.LG"]
    assert got[1].title == "Merging Beyond: Streaming LLM Updates via Activation-Guided Rotations"
    # Code badge and the GitHub link in the abstract
    assert got[2].extra.get("code_badge") and got[2].code_url.endswith("/Long-to-Short-via-Model-Merging")
    assert got[5].code_url == "https://github.com/BokwaiHo/COLA"
    no_et_al = [p for p in got if not p.authors_truncated]
    assert any(p.authors == ["Shuqi Liu", "Jianguo Huang", "Luke Ong"] for p in no_et_al)
    cats = Counter(c for p in got for c in p.categories)
    assert cats["stat.ML"] == 1 and cats["cs.DL"] == 1
    assert "\\textbf" not in " ".join(p.abstract for p in got)


@pytest.mark.parametrize("glued,title,first", [
    ("Some TitleHan Wu, A B et al.", "Some Title", "Han Wu"),
    ("Scaling for LLMHan Wu, A B", "Scaling for LLM", "Han Wu"),
    ("A Study of GPT-4Xi Li, Bo Chen", "A Study of GPT-4", "Xi Li"),
])
def test_title_author_split(glued, title, first):
    got = split_title_authors(glued)
    assert got is not None and got[0] == title and got[1][0] == first


def test_digest_fields():
    got = papers("002")
    assert len(got) == 651
    counts = Counter(p.topic.label for p in got)
    assert counts == {"指令微调与对齐": 154, "推理与思维链": 133, "效率与压缩": 104, "Agent 与工具使用": 78,
                      "多模态基础模型": 67, "LLM 预训练": 61, "模型架构": 54}
    assert all(p.topic.area == "基础/前沿模型 (含LLM)" for p in got)
    assert sum(1 for p in got if p.tldr) == 356
    assert all(p.summary["zh"].filled() == 6 for p in got)
    first = got[0]
    assert first.keywords == ["safety alignment", "safety preservation", "low-rank adaptation",
                              "parameter-efficient fine-tuning"]
    assert first.summary["zh"].motivation.startswith("虽然大语言模型")
    # the abstract is joined across its wrapped lines
    assert "\n" not in first.abstract
    assert first.abstract.startswith("Large language models (LLMs) have achieved remarkable success")
    assert first.abstract.endswith("from 26.0% to 28.0%.")
    # '$\\nabla$' broken over two lines upstream is glued back, then cleaned like the abstract (issue 13:
    # it used to keep the LaTeX)
    assert any("∇-Reasoner" in p.summary["zh"].method for p in got)
    assert any("MAS²" in (p.tldr or "") + "".join(getattr(p.summary["zh"], f) for f in SUMMARY_FIELDS) for p in got)


def test_digest_tldr_and_fields_are_cleaned_like_abstracts():
    for p in papers("002"):
        for text in [p.tldr or "", *(getattr(p.summary["zh"], f) or "" for f in SUMMARY_FIELDS)]:
            assert not re.search(r"\\[A-Za-z%]|\$|\^\{", text), text


def test_abstract_list_has_no_latex_and_finds_code():
    got = papers("003")
    assert len(got) == 10
    for p in got:
        assert not re.search(r"\\[A-Za-z]+|[{}]", p.abstract), p.abstract
    assert "PretrainRL" in got[0].abstract and "debiasing then learning" in got[0].abstract
    codes = [p.code_url for p in got if p.code_url]
    assert "https://github.com/ziwliu8/H2Rec" in codes
    h2rec = next(p for p in got if p.code_url == "https://github.com/ziwliu8/H2Rec")
    # \name~ is the method's macro: rendered with the repository's name, never as LaTeX
    assert "we propose H2Rec, a novel framework" in h2rec.abstract
    assert len(codes) == 3
