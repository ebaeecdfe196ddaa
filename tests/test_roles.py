"""Sentence splitting and the CSAbstruct sentence-role model (real model, real embedder)."""

from __future__ import annotations

import functools
import json
import shutil

import pytest

from paperlens.enrich.models.roles import (
    MODEL_DIR,
    ROLES,
    RoleModel,
    crf_features,
    embed_sentences,
    label_abstracts,
    label_sentences,
    load_model,
    split_sentences,
)
from paperlens.sources import read_records

from .conftest import sample, shared_data


@pytest.mark.parametrize("text, expected", [
    ("We use deep models, e.g. Transformers, for this. It works.",
     ["We use deep models, e.g. Transformers, for this.", "It works."]),
    ("That is, i.e. BERT and GPT. Next.", ["That is, i.e. BERT and GPT.", "Next."]),
    ("As shown by Smith et al. (2020), scores improve by 3.5 points. See Fig. 2 for details. Done.",
     ["As shown by Smith et al. (2020), scores improve by 3.5 points.", "See Fig. 2 for details.", "Done."]),
    ("We compare with BERT (Devlin et al., 2019). The model, cf. Table 1, is small.",
     ["We compare with BERT (Devlin et al., 2019).", "The model, cf. Table 1, is small."]),
    ("Accuracy rises from 26.0% to 28.0%. We show that \"it works.\" Why? Because!",
     ["Accuracy rises from 26.0% to 28.0%.", "We show that \"it works.\"", "Why?", "Because!"]),
    ("近年来,大语言模型展现出了能力。然而,本文研究发现问题！实验结果表明有效？结束",
     ["近年来,大语言模型展现出了能力。", "然而,本文研究发现问题！", "实验结果表明有效？", "结束"]),
    ("First sentence without a stop\nSecond sentence on its own line\nThird one.",
     ["First sentence without a stop", "Second sentence on its own line", "Third one."]),
    ("A hard-wrapped line that\ncontinues here. We fine-tune the\nBERT model. Hyph-\nenated.",
     ["A hard-wrapped line that continues here.", "We fine-tune the BERT model.", "Hyphenated."]),
    ("第一句话\n第二句话。", ["第一句话", "第二句话。"]),
    ("Para one.\n\nPara two", ["Para one.", "Para two"]),
    ("", []),
    ("   \n ", []),
])
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


def test_split_sentences_keeps_every_character_of_a_seed_abstract():
    paper = next(p for p in read_records(sample("003")) if hasattr(p, "abstract"))
    sentences = split_sentences(paper.abstract)
    assert len(sentences) >= 6
    assert "".join(sentences).replace(" ", "") == paper.abstract.replace(" ", "")


def test_label_sentences_on_a_seed_abstract_gives_plausible_roles():
    paper = next(p for p in read_records(sample("003")) if hasattr(p, "abstract"))
    sentences = split_sentences(paper.abstract)
    roles = label_sentences(sentences)
    assert len(roles) == len(sentences) and set(roles) <= set(ROLES)
    assert roles[0] == "background"
    propose = next(i for i, s in enumerate(sentences) if "we propose" in s)
    assert roles[propose] in ("objective", "method")
    experiments = next(i for i, s in enumerate(sentences) if s.startswith("Extensive experiments"))
    assert roles[experiments] == "result"


def test_label_sentences_empty_and_batch_agree():
    assert label_sentences([]) == []
    one = ["Neural networks are widely used.", "We propose a new model.", "It improves accuracy by 5%."]
    two = ["Graphs are everywhere.", "We study link prediction."]
    assert label_abstracts([one, [], two]) == [label_sentences(one), [], label_sentences(two)]


@functools.cache
def dev_accuracy() -> dict[str, float]:
    """Accuracy on all of CSAbstruct dev (295 abstracts): the shipped model, and the same without its CRF."""
    path = shared_data("csabstruct", "dev.jsonl")
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    model = load_model()
    embeddings = embed_sentences([s for r in records for s in r["sentences"]])
    correct = {"shipped": 0, "without_crf": 0}
    offset = 0
    for record in records:
        n = len(record["sentences"])
        for name, share in (("shipped", None), ("without_crf", 0.0)):
            predicted = model.predict(record["sentences"], embeddings[offset:offset + n], share)
            correct[name] += sum(p == g for p, g in zip(predicted, record["labels"], strict=True))
        offset += n
    return {name: count / offset for name, count in correct.items()}


def test_accuracy_on_dev_does_not_regress():
    # The shipped model (v3, static sentence vectors) measures 0.686 on dev (v2 with MiniLM: 0.688); a drop
    # below 0.67 is a regression.
    assert dev_accuracy()["shipped"] >= 0.67


def test_the_crf_half_adds_accuracy():
    # v3 mixes a lexical CRF into the regression: 0.686 against 0.666 without it (295 dev abstracts).
    accuracy = dev_accuracy()
    assert accuracy["shipped"] >= accuracy["without_crf"] + 0.005


@pytest.mark.xfail(strict=True, reason="target not met yet: the shipped model reaches 0.686 on dev")
def test_accuracy_on_dev_meets_target():
    assert dev_accuracy()["shipped"] >= 0.80


def test_crf_features_cue_words_neighbours_and_odd_text():
    features = crf_features(["Deep nets are popular.", "We propose PruneX, cutting 90% of weights.", ""])
    assert len(features) == 3
    assert features[1]["f0=we"] == features[1]["f01=we_propose"] == 1.0
    assert features[1]["pct"] == features[1]["digit"] == 1.0
    assert features[1]["pf0=deep"] == 1.0 and "nnone" not in features[1]
    assert features[0]["first"] == 1.0 and features[0]["pnone"] == 1.0
    assert features[2]["last"] == 1.0 and features[2]["nnone"] == 1.0
    assert crf_features([]) == []
    assert crf_features(["近年来,大语言模型展现出了能力。"])[0]["bias"] == 1.0


def test_a_corrupt_crf_file_is_an_error_naming_it(tmp_path):
    model_dir = tmp_path / "roles"
    shutil.copytree(MODEL_DIR, model_dir)
    (model_dir / "crf.crfsuite").write_bytes(b"not a CRFsuite model")
    with pytest.raises(ValueError, match=str(model_dir / "crf.crfsuite")):
        RoleModel.load(model_dir)


def test_eval_roles_command_on_a_small_file_and_a_bad_one(tmp_path):
    from click.testing import CliRunner

    from paperlens.cli import main

    data = tmp_path / "mini.jsonl"
    records = [
        {"sentences": ["Neural networks are widely used in vision.", "We propose a new pruning method.",
                       "It removes 90% of weights with no loss in accuracy on ImageNet."],
         "labels": ["background", "objective", "result"]},
        {"sentences": ["Graphs are everywhere.", "We train a model on them."], "labels": ["background", "method"]},
    ]
    data.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["eval", "roles", "--split", str(data), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["abstracts"] == 2 and report["sentences"] == 5
    assert sum(map(sum, report["confusion"])) == 5
    diagonal = sum(report["confusion"][i][i] for i in range(len(report["labels"])))
    assert report["accuracy"] == round(diagonal / 5, 4)
    text = CliRunner().invoke(main, ["eval", "roles", "--split", str(data)])
    assert "accuracy" in text.output and "confusion" in text.output

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(records[0]) + "\n" + '{"sentences": ["a"], "labels": ["x", "y"]}\n', encoding="utf-8")
    failed = CliRunner().invoke(main, ["eval", "roles", "--split", str(bad)])
    assert failed.exit_code != 0 and f"{bad}:2:" in failed.output
    missing = CliRunner().invoke(main, ["eval", "roles", "--split", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code != 0 and "no such file" in missing.output


def test_labelling_reads_the_static_embedder_not_the_transformer():
    """Issue 18: the digest step ran at 2 abstracts/s because every sentence went through MiniLM itself. The
    model (v3) is trained on the static token table's vectors and labels without loading the transformer."""
    import subprocess
    import sys

    from paperlens.enrich.models.embed import get_embedder

    assert load_model().meta["embedder"] == get_embedder("static").name
    code = ("import sys; from paperlens.enrich.models.roles import label_abstracts; "
            "label_abstracts([['Graphs are everywhere.', 'We propose GraphX.', 'It wins by 5%.']]); "
            "print('sentence_transformers' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    assert out.stdout.split() == ["False", "False"], out.stdout + out.stderr
