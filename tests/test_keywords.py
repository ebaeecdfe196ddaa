"""Keyword tags: real seed abstracts, the CLI, the held-out evaluation and the enrichment step."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

from paperlens.cli import main
from paperlens.enrich.models.keywords import clean_style, extract_keywords, phrase_key
from paperlens.enrich.models.keywords_train import seed_papers
from paperlens.sources import read_records

from .conftest import sample

FUNCTION_WORDS = {"a", "an", "the", "of", "and", "or", "to", "in", "on", "for", "with", "we", "our", "this", "that",
                  "is", "are", "by", "as", "from", "which", "these", "it", "its"}


def run(db, *args):
    return CliRunner().invoke(main, ["--db", str(db), *args], catch_exceptions=False)


def test_seed_abstracts_get_five_clean_distinct_phrases():
    for paper in seed_papers()[::65]:
        tags = extract_keywords(paper.title, paper.abstract)
        assert len(tags) == 5, (paper.abstract[:80], tags)
        assert len({phrase_key(t) for t in tags}) == 5, tags
        for tag in tags:
            assert tag == clean_style(tag), tag  # lower case except acronyms
            words = tag.split()
            assert 1 <= len(words) <= 6, tag
            assert words[0].lower() not in FUNCTION_WORDS and words[-1].lower() not in FUNCTION_WORDS, tag
            assert not re.search(r"[()\[\],.;:]", tag), tag


def test_phrase_in_title_is_found():
    paper = next(p for p in read_records(sample("001")) if "Model Merging" in p.title)
    tags = extract_keywords(paper.title, paper.abstract)
    assert "model merging" in [t.lower() for t in tags], tags


def test_chinese_abstract_gives_meaningful_words_not_garbage():
    paper = next(p for p in read_records(sample("000")) if p.language == "zh")
    tags = extract_keywords(paper.title, paper.abstract)
    assert tags, "a Chinese abstract should still get keywords"
    for tag in tags:
        assert len(tag) >= 2 and not re.fullmatch(r"[\W\d_]+", tag), tags
    assert len(set(tags)) == len(tags)


def test_cli_round_trip_reports_bad_lines(tmp_path):
    papers = seed_papers()[:3]
    source = tmp_path / "in.jsonl"
    lines = [json.dumps({"title": p.title, "abstract": p.abstract, "id": i}) for i, p in enumerate(papers)]
    lines.insert(1, "{not json")
    lines.append(json.dumps({"title": "no abstract here"}))
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["keywords", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{source}:2: invalid JSON" in result.output
    assert f'{source}:5: missing or empty "abstract"' in result.output
    records = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == [0, 1, 2]
    for record, paper in zip(records, papers, strict=True):
        assert record["keywords_pred"] == extract_keywords(paper.title, paper.abstract)
    only_bad = tmp_path / "bad.jsonl"
    only_bad.write_text("[1, 2]\n", encoding="utf-8")
    failed = CliRunner().invoke(main, ["keywords", str(only_bad), "-o", str(tmp_path / "none.jsonl")])
    assert failed.exit_code != 0 and "expected a JSON object" in failed.output


def test_eval_keywords_on_held_out_seeds_meets_targets():
    result = CliRunner().invoke(main, ["eval", "keywords", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    held_out = json.loads(result.output)["seeds_held_out"]
    assert held_out["papers"] >= 120
    assert held_out["hit_rate"] >= 0.55, held_out
    assert held_out["precision"] >= 0.18, held_out


def test_enrich_step_fills_keywords_only_where_sources_gave_none(db_path):
    assert run(db_path, "ingest", "--as-of", "2026-11-23", str(sample("001")), str(sample("002"))).exit_code == 0
    listed = run(db_path, "enrich", "--list").output
    assert re.search(r"^keywords\t\d+\tby default$", listed, re.M), listed
    result = run(db_path, "enrich", "--steps", "keywords")
    assert result.exit_code == 0 and "keywords: done 671, failed 0" in result.output, result.output
    source = {p.title or p.abstract[:200]: p.keywords for path in (sample("001"), sample("002"))
              for p in read_records(path)}
    exported = [json.loads(x) for x in run(db_path, "export").output.splitlines()]
    assert len(exported) == 671
    for paper in exported:
        given = source[paper["title"] or paper["abstract"][:200]]
        if given:
            assert paper["keywords"] == given  # author keywords win
        else:
            assert len(paper["keywords"]) == 5
            assert paper["keywords"] == extract_keywords(paper["title"], paper["abstract"])
    merging = next(p for p in exported if "Model Merging" in p["title"])
    assert "model merging" in [k.lower() for k in merging["keywords"]]


def test_model_commands_reject_undecodable_text_on_its_line(tmp_path):
    """`keywords`, `classify` and `taxonomy train` read their JSONL as ingest does (models/lines.py): a
    Latin-1 line and a lone surrogate escape were tracebacks (UnicodeDecodeError in classify and train,
    UnicodeEncodeError writing the output of keywords and classify); a UTF-16 file is read."""
    good = json.dumps({"abstract": "We fine-tune large language models with reinforcement learning.",
                       "label": "rl"})
    latin1 = tmp_path / "latin1.jsonl"
    latin1.write_bytes(good.encode() + b"\n" + '{"abstract": "caf\u00e9 models", "label": "x"}\n'.encode("latin-1"))
    surrogate = tmp_path / "surrogate.jsonl"
    surrogate.write_text(good + '\n{"abstract": "A \\ud800 b", "label": "x"}\n', encoding="utf-8")
    for path in (latin1, surrogate):
        reason = "not valid UTF-8" if path is latin1 else "lone surrogate"
        for args in (["keywords", str(path), "-o", str(tmp_path / "k.jsonl")],
                     ["classify", str(path), "-o", str(tmp_path / "c.jsonl")],
                     ["taxonomy", "train", "t2", "--from", str(path), "--dir", str(tmp_path / "tax")]):
            result = CliRunner().invoke(main, args)
            assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.output)
            assert f"{path}:2: " in result.output and reason in result.output, (args, result.output)
        written = [json.loads(x) for x in (tmp_path / "k.jsonl").read_text(encoding="utf-8").splitlines()]
        assert [r["label"] for r in written] == ["rl"]  # keywords goes on past the bad line
    utf16 = tmp_path / "utf16.jsonl"
    utf16.write_text(good + "\n", encoding="utf-16")
    result = CliRunner().invoke(main, ["keywords", str(utf16), "-o", str(tmp_path / "u.jsonl")])
    assert result.exit_code == 0 and "1 written, 0 bad" in result.output, result.output
    stdin = CliRunner().invoke(main, ["keywords", "-"], input=b"{\"abstract\": \"caf\xe9 x\"}\n" + good.encode() + b"\n")
    assert "-:1: not valid UTF-8" in stdin.output and "1 written, 1 bad" in stdin.output, stdin.output


def test_keyword_tags_keep_letters_of_every_script():
    # Before: the tokenizer knew only [A-Za-z0-9], so 'Naïve café' became the tag 've caf' and 'ﬁne-tuning'
    # (an fi ligature, as PDFs extract it) 'ne-tuning'.
    from paperlens.core.words import keyword_norm
    from paperlens.enrich.models.tags import tag_label

    title = "Naïve café scheduling with ﬁne-tuning"
    abstract = ("We study naïve café scheduling for ﬁne-tuning of the Schrödinger solver. "
                "Naïve café scheduling is simple.")
    tags = extract_keywords(title, abstract)
    assert "naïve café scheduling" in tags or "naïve café" in tags, tags
    for tag in tags:
        assert not re.search(r"(?<![a-zà-ÿ])(ve caf|ne-tuning)", tag), tags
        letters = [c for c in tag.lower() if c.isalpha()]
        assert [c for c in tag_label(tag).lower() if c.isalpha()] == letters, tag
        assert [c for c in keyword_norm(tag) if c.isalpha()] == letters, tag
    assert any("fine-tuning" in t or t == "finetuning" for t in tags), tags
    assert phrase_key("Naïve Cafés") == phrase_key("naïve café") == "naïvecafé"
    assert phrase_key("深度学习") == "深度学习"
    assert phrase_key("ﬁne-tuning") == phrase_key("fine tuning")
    assert keyword_norm("Naïve café") == "naïve café" and tag_label("Naïve café") == "Naïve café"
