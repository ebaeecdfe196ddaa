"""Embeddings, taxonomies, the topic classifier, discovery, and the embed/topic enrichment steps."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from paperlens.cli import main
from paperlens.enrich.models.embed import get_embedder
from paperlens.enrich.models.taxonomy import TopicClassifier, load_taxonomy, read_jsonl_records
from paperlens.enrich.registry import load_steps
from paperlens.enrich.runner import run_step
from paperlens.sources import read_records
from paperlens.store import Store

from .conftest import sample

DIGEST_LABELS = ["指令微调与对齐", "推理与思维链", "效率与压缩", "Agent 与工具使用", "多模态基础模型", "模型架构",
                 "LLM 预训练"]


@pytest.fixture(scope="module")
def seed_papers():
    return [p for p in read_records(sample("002")) if hasattr(p, "abstract")]


@pytest.fixture(scope="module")
def seed_db(tmp_path_factory, seed_papers):
    """200 of the 002 seed papers in a real database; 40 of them have their source topic removed."""
    path = tmp_path_factory.mktemp("seeddb") / "seeds.db"
    store = Store(path)
    papers = [p.model_copy(deep=True) for p in seed_papers[:200]]
    for paper in papers[:40]:
        paper.topic = None
    store.ingest(papers)
    store.close()
    return path


def copy_db(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy.db"
    shutil.copy(source, target)
    return target


def test_static_embeddings_are_normalised_and_deterministic():
    embedder = get_embedder()
    assert embedder.name.startswith("minilm-static")
    texts = ["Quantization of large language models to 4 bits.", "A study of agents using web tools.", ""]
    first = embedder.encode(texts)
    second = get_embedder("static").encode(list(reversed(texts)))[::-1]
    assert first.dtype == np.float32 and first.shape == (3, embedder.dim)
    np.testing.assert_allclose(np.linalg.norm(first[:2], axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(first, second)
    assert not first[2].any()  # an empty text has no tokens: a zero vector, not noise
    # related texts are closer than unrelated ones
    near = embedder.encode(["Post-training quantization reduces LLM memory with low-bit weights."])[0]
    assert near @ first[0] > near @ first[1]


def test_builtin_taxonomy_has_the_digest_labels():
    taxonomy = load_taxonomy("llm-2026")
    assert taxonomy.label_ids == DIGEST_LABELS
    assert taxonomy.area_label == "基础/前沿模型 (含LLM)"
    assert all(label.en and label.en != label.zh for label in taxonomy.labels)
    assert taxonomy.trained and sorted(taxonomy.classifier.classes) == sorted(DIGEST_LABELS)


def test_classify_cli(tmp_path):
    source = tmp_path / "in.jsonl"
    lines = [
        {"abstract": "We quantize the weights and KV cache of large language models to 4 bits and prune "
                     "attention heads, cutting inference memory and latency with little loss in accuracy."},
        {"title": "Web agents", "abstract": "We build an LLM agent that plans, calls tools and APIs, and "
                                            "navigates websites to finish multi-step tasks.",
         "keywords": ["agents", "tool use"]},
    ]
    source.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["classify", "--taxonomy", "llm-2026", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [r["topic"]["label"] for r in rows] == ["效率与压缩", "Agent 与工具使用"]
    assert all(0 < r["topic"]["score"] <= 1 for r in rows)
    assert rows[1]["title"] == "Web agents"

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(lines[0]) + "\n" + json.dumps({"title": "no abstract"}) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["classify", str(bad)])
    assert result.exit_code != 0
    assert f"{bad}:2" in result.output and "abstract" in result.output


def test_train_cli_then_classify(tmp_path, seed_papers, monkeypatch):
    monkeypatch.setenv("PAPERLENS_HOME", str(tmp_path / "home"))
    wanted = {"效率与压缩": "efficiency", "多模态基础模型": "multimodal"}
    picked = [p for p in seed_papers if p.topic.label in wanted]
    train, test = picked[::2], picked[1::2][:20]
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text("".join(json.dumps({"abstract": p.abstract, "keywords": p.keywords,
                                            "label": wanted[p.topic.label]}) + "\n" for p in train),
                        encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["taxonomy", "train", "mine", "--from", str(labelled)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "home" / "taxonomies" / "mine" / "classifier.npz").exists()
    listing = runner.invoke(main, ["taxonomy", "list"])
    assert "mine" in listing.output and "llm-2026" in listing.output

    unseen = tmp_path / "unseen.jsonl"
    unseen.write_text("".join(json.dumps({"abstract": p.abstract}) + "\n" for p in test), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(main, ["classify", "--taxonomy", "mine", str(unseen), "-o", str(out)])
    assert result.exit_code == 0, result.output
    predicted = [json.loads(x)["topic"]["label"] for x in out.read_text().splitlines()]
    gold = [wanted[p.topic.label] for p in test]
    assert set(predicted) <= {"efficiency", "multimodal"}
    assert sum(a == b for a, b in zip(predicted, gold, strict=True)) >= 0.8 * len(gold)


def test_labelled_reader_names_file_and_line(tmp_path):
    path = tmp_path / "l.jsonl"
    path.write_text('{"abstract": "a", "label": "x"}\n{"abstract": "b"}\n', encoding="utf-8")
    from paperlens.enrich.models.taxonomy import TaxonomyError

    with pytest.raises(TaxonomyError, match=rf"{path}:2: missing 'label'"):
        read_jsonl_records(path, need_label=True)
    path.write_text('{"abstract": "a", "topic": {"label": "x"}}\nnot json\n', encoding="utf-8")
    with pytest.raises(TaxonomyError, match=rf"{path}:2: invalid JSON"):
        read_jsonl_records(path, need_label=True)


def test_discover_on_seed_db(seed_db, tmp_path):
    db = copy_db(seed_db, tmp_path)
    result = CliRunner().invoke(main, ["--db", str(db), "taxonomy", "discover", "--k", "4",
                                       "--topic", "推理与思维链", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    clusters = report["clusters"]
    assert len(clusters) == 4
    assert sum(c["count"] for c in clusters) == report["papers"] >= 20
    assert all(c["name"] and c["terms"] for c in clusters)
    assert len({c["name"] for c in clusters}) == 4
    # default selection: the 40 papers without a topic
    result = CliRunner().invoke(main, ["--db", str(db), "taxonomy", "discover", "--k", "3", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["papers"] == 40
    result = CliRunner().invoke(main, ["--db", str(db), "taxonomy", "discover", "--k", "3", "--topic", "nothing"])
    assert result.exit_code != 0 and "no papers selected" in result.output


def test_embed_and_topic_steps(seed_db, tmp_path):
    db = copy_db(seed_db, tmp_path)
    store = Store(db)
    steps = load_steps()
    assert steps["embed"].order < steps["topic"].order
    report = run_step(store, steps["embed"].create())
    assert report.done == store.count() and report.failed == 0
    ids, matrix = store.load_embeddings(get_embedder().name)
    assert len(ids) == store.count() and matrix.shape[1] == get_embedder().dim
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    assert store.embedding_models() == {get_embedder().name: store.count()}

    report = run_step(store, steps["topic"].create())
    assert report.done == store.count() and report.failed == 0
    from paperlens.enrich.views import export_papers

    papers = list(export_papers(store))
    outputs = [store.enrichments_for(p.id)["topic"]["output"] for p in papers]
    assert all(o["taxonomy"] == "llm-2026" and o["label"] in DIGEST_LABELS and 0 < o["score"] <= 1
               for o in outputs)
    assert all(p.topic and p.topic.label in DIGEST_LABELS for p in papers)  # the 40 got one from the step
    source_topic = {p.id: p.topic.label for p in read_seed_topics(store)}
    for paper, output in zip(papers, outputs, strict=True):
        if paper.id in source_topic:
            assert paper.topic.label == source_topic[paper.id]  # a source's topic is never replaced
        else:
            assert paper.topic.label == output["label"] and paper.topic.area == "基础/前沿模型 (含LLM)"
    store.close()


def read_seed_topics(store):
    return [p for p in store.iter_papers() if p.topic and p.topic.label]


def test_enrich_cli_runs_embed_and_topic_then_skips(seed_db, tmp_path):
    db = copy_db(seed_db, tmp_path)
    runner = CliRunner()
    first = runner.invoke(main, ["--db", str(db), "enrich", "--steps", "embed,topic"])
    assert first.exit_code == 0, first.output
    count = Store(db).count()
    assert f"embed: done {count}, failed 0, skipped 0" in first.output
    assert f"topic: done {count}, failed 0, skipped 0" in first.output
    second = runner.invoke(main, ["--db", str(db), "enrich", "--steps", "embed,topic"])
    assert second.exit_code == 0, second.output
    assert f"embed: done 0, failed 0, skipped {count}" in second.output
    assert f"topic: done 0, failed 0, skipped {count}" in second.output


def _records(papers):
    return [{"title": p.title, "abstract": p.abstract, "keywords": p.keywords} for p in papers]


def test_keyword_block_votes_only_for_papers_with_keywords(seed_papers, tmp_path):
    papers = seed_papers[::2]  # the digest is grouped by topic: every other paper covers all seven
    labels = [p.topic.label for p in papers]
    full = TopicClassifier.train(_records(papers), labels)
    text_only = TopicClassifier.train(_records(papers), labels, blocks=("words", "chars"))
    assert list(full.coef) == ["words", "chars", "keywords"]
    unseen = seed_papers[1::2][::15]
    without = [{"abstract": p.abstract} for p in unseen]
    # No keywords: the keyword block stays out of the average, so only the text blocks decide.
    assert np.allclose(full.predict_proba(without), text_only.predict_proba(without))
    with_keywords = full.predict_proba(_records(unseen))
    assert not np.allclose(with_keywords, text_only.predict_proba(_records(unseen)))
    assert np.allclose(with_keywords.sum(axis=1), 1.0)
    full.save(tmp_path / "model")
    assert np.allclose(TopicClassifier.load(tmp_path / "model").predict_proba(_records(unseen)), with_keywords,
                       atol=1e-5)


def test_keyword_block_is_left_out_when_a_label_has_no_keywords(seed_papers):
    papers = seed_papers[::5]
    records = _records(papers)
    first = papers[0].topic.label
    for record, paper in zip(records, papers, strict=True):
        if paper.topic.label == first:
            record["keywords"] = None
    model = TopicClassifier.train(records, [p.topic.label for p in papers])
    assert "keywords" not in model.coef and set(model.coef) == {"words", "chars"}
    assert len(model.predict(records[:5])) == 5


@pytest.mark.slow
def test_eval_topics_on_seeds_is_held_out_and_accurate():
    # 5-fold CV over the 651 seeds: about 25 s of CPU. Measured 0.763 accuracy (docs/benchmarks.md);
    # the bar sits just below it so a regression fails (the 0.88 goal is not reached).
    result = CliRunner().invoke(main, ["eval", "topics", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)["llm-2026"]
    assert report["n"] == 651 and report["folds"] == 5
    assert report["accuracy"] >= 0.74, report
    assert report["macro_f1"] >= 0.73, report
    assert {r["label"] for r in report["per_label"]} == set(DIGEST_LABELS)


def test_enrich_with_an_unknown_taxonomy_is_a_usage_error(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from paperlens.cli import main

    monkeypatch.setenv("PAPERLENS_TAXONOMY", "no-such-taxonomy")
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "t.db"), "enrich", "--steps", "topic"])
    assert result.exit_code == 2 and "unknown taxonomy 'no-such-taxonomy'" in result.output
    assert "Traceback" not in result.output
