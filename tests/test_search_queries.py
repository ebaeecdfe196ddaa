"""Queries as researchers type them: identifiers pasted whole, full-width characters, accented names,
traditional characters. Each finds the papers the plain form finds."""

from __future__ import annotations

import pytest

from paperlens.core.models import Paper, SourceRef
from paperlens.search.hybrid import HybridSearcher, SearchFilters

PAPERS = [
    dict(id="arxiv:0704.0001", arxiv_id="0704.0001", doi="10.1103/physrevd.76.013009",
         title="Calculation of prompt diphoton production cross sections at Tevatron and LHC energies",
         abstract="A fully differential calculation in perturbative quantum chromodynamics is presented.", year=2007),
    dict(id="arxiv:0704.0002", arxiv_id="0704.0002", title="Sparsity-certifying Graph Decompositions",
         abstract="We describe a new algorithm, the (k, l)-pebble game with colors, for graph decompositions.",
         year=2007),
    dict(id="p:accent", title="Kernel methods for causal inference", authors=["Bernhard Schölkopf"],
         abstract="Causal inference with kernels; a naïve baseline is compared.", year=2020),
    dict(id="p:wide", title="大语言模型的推理能力",
         abstract="我们研究ＬＬＭ在２０２４年的数学推理基准上的表现。", year=2024, language="zh"),
    dict(id="p:trad", title="繁體中文的語言模型評測", abstract="我們評測語言模型與強化學習在臺灣的表現。", year=2023,
         language="zh"),
    dict(id="p:plain", title="Scaling laws for LLM reasoning",
         abstract="We measure how LLM reasoning improves with compute on the 2024 benchmarks.", year=2024,
         venue="NeurIPS 2024"),
]


@pytest.fixture(params=["fts5", "tantivy"])
def searcher(request, tmp_path, monkeypatch):
    from paperlens.store import Store

    monkeypatch.setenv("PAPERLENS_KEYWORD_INDEX", request.param)
    store = Store(tmp_path / "q.db")
    store.ingest([Paper(**fields, sources=[SourceRef(source="test", line=i + 1)]) for i, fields in enumerate(PAPERS)])
    yield HybridSearcher(store)
    store.close()


@pytest.mark.parametrize("query", ["0704.0001", "0704.0001v2", "arXiv:0704.0001", "https://arxiv.org/abs/0704.0001v1",
                                   "10.1103/PhysRevD.76.013009", "https://doi.org/10.1103/PhysRevD.76.013009",
                                   "arxiv:0704.0001"])
def test_an_identifier_finds_its_paper_first(searcher, query):
    found = searcher.search_results(query, mode="keyword", limit=5)
    assert found.hits and found.hits[0].id == "arxiv:0704.0001"
    assert found.total >= 1 and found.suggestion is None


def test_an_identifier_respects_the_filters(searcher):
    found = searcher.search_results("0704.0001", mode="keyword", filters=SearchFilters(year_from=2020))
    assert "arxiv:0704.0001" not in [h.id for h in found.hits]


@pytest.mark.parametrize("query", ["\ud800abc", "0704.0001\x00", "\udcff0704.0001", "0704.0001\u202e"])
def test_an_identifier_with_unencodable_or_control_characters_is_a_plain_query(searcher, query):
    assert isinstance(searcher.search_results(query, mode="keyword").hits, list)


@pytest.mark.parametrize("query, wanted", [("ＬＬＭ", {"p:wide", "p:plain"}), ("LLM", {"p:wide", "p:plain"}),
                                           ("２０２４", {"p:wide", "p:plain"}), ("ｒｅａｓｏｎｉｎｇ", {"p:plain"})])
def test_full_width_letters_and_digits_are_the_plain_ones(searcher, query, wanted):
    found = searcher.search_results(query, mode="keyword", limit=10)
    assert wanted <= {h.id for h in found.hits}


@pytest.mark.parametrize("query", ["Schölkopf", "Scholkopf", "SCHÖLKOPF", "Scho\u0308lkopf", "naive causal", "naïve causal"])
def test_accents_do_not_matter(searcher, query):
    found = searcher.search_results(query, mode="keyword", limit=5)
    assert [h.id for h in found.hits][:1] == ["p:accent"]
    assert found.suggestion is None


@pytest.mark.parametrize("query, wanted", [("大語言模型", "p:wide"), ("語言模型 評測", "p:trad"), ("语言模型 评测", "p:trad"),
                                           ("强化学习", "p:trad"), ("強化學習", "p:trad")])
def test_traditional_characters_find_simplified_text_and_back(searcher, query, wanted):
    found = searcher.search_results(query, mode="keyword", limit=5)
    assert wanted in [h.id for h in found.hits]


def test_cli_results_print_no_control_characters_of_the_papers(tmp_path):
    """A title or abstract with terminal escapes (set the window title, clear the screen) is printed inert."""
    import re

    from click.testing import CliRunner

    from paperlens.cli import main
    from paperlens.store import Store

    store = Store(tmp_path / "esc.db")
    hostile = "Escapes \x1b]0;pwned\x07 and \x1b[2J\x1b[31m red \x9b31m\x08\x08 backspaced"
    store.ingest([Paper(id=f"p:esc{i}", title=f"{hostile} {i}", abstract=f"An abstract about escapes. {hostile}",
                        topic=None, sources=[SourceRef(source="test", line=i + 1)]) for i in range(2)])
    store.close()
    runner = CliRunner()
    for args in (["search", "escapes", "--mode", "keyword"], ["similar", "p:esc0"], ["show", "p:esc0"]):
        out = runner.invoke(main, ["--db", str(tmp_path / "esc.db"), *args])
        assert out.exit_code == 0, out.output
        assert "escapes" in out.output.lower()
        left = re.sub(r"\x1b\[[01]m", "", out.output)  # the bold the CLI itself puts on matches
        assert not re.findall(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", left), (args, out.output)


@pytest.mark.parametrize("venue, found", [("neurips", True), ("IPS 20", True), ("_", False), ("%", False),
                                          ("N%S", False), ("\\", False)])
def test_the_venue_filter_is_plain_text_not_a_like_pattern(searcher, venue, found):
    hits = searcher.search_results("reasoning", mode="keyword", filters=SearchFilters(venue=venue)).hits
    assert ("p:plain" in [h.id for h in hits]) is found


@pytest.mark.parametrize("option", ["--year-from", "--year-to"])
def test_cli_years_out_of_range_are_a_usage_error(tmp_path, option):
    from click.testing import CliRunner

    from paperlens.cli import main

    out = CliRunner().invoke(main, ["--db", str(tmp_path / "y.db"), "search", "llm", option, "99999999999999999999"])
    assert out.exit_code == 2 and "Traceback" not in out.output and option in out.output
