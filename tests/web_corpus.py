"""The corpus the web tests run on: the 4 seeds (as of 2026-11-23) plus two papers of our own,
ingested through the JSONL adapter: one with Chinese and English summaries, one whose abstract
tries to inject HTML and script."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from paperlens.ingest.pipeline import ingest_paths
from paperlens.store import Store

from .conftest import SAMPLE

XSS_ABSTRACT = ("We study robustness of parsers to hostile markup such as <script>alert(1)</script> and "
                "<img src=x onerror=alert(1)> embedded in text, plus LaTeX like $\\frac{a}{b}$ and "
                "\"quotes\" & ampersands; the parser must keep every character as text.")
BILINGUAL = {
    "id": "arxiv:2611.00042",
    "title": "Bilingual Summaries for Zebrafish Tokenizers",
    "authors": ["Ada Lovelace", "Qiaozhi He"],
    "date": "2026-11-02", "year": 2026, "categories": ["cs.CL"], "arxiv_id": "2611.00042",
    "openreview_id": "ZebraF1sh",
    "abstract": "We present zebrafish tokenizers, a quaint method for segmenting scripts of mixed alphabets, "
                "and measure how the segmentation changes downstream retrieval on twelve corpora.",
    "keywords": ["tokenization", "zebrafish"],
    "topic": {"area": "测试领域", "label": "双语测试主题"},
    "summary": {
        "zh": {"motivation": "斑马鱼分词的中文动机", "problem": "中文问题", "observation": "中文现象",
               "method": "中文方法", "experiments": "中文实验", "contribution": "中文贡献"},
        "en": {"motivation": "English motivation of zebrafish tokenizers", "problem": "English problem",
               "observation": "English observation", "method": "English method",
               "experiments": "English experiments", "contribution": "English contribution"},
    },
    "sources": [], "code_url": "https://github.com/example/zebrafish",
}
HOSTILE = {
    "id": "arxiv:2611.00666",
    "title": "Hostile <b>Markup</b> in Abstracts",
    "authors": ["Mallory <script>x</script> Evans"],
    "date": "2026-11-01", "year": 2026, "categories": ["cs.CR"], "arxiv_id": "2611.00666",
    "abstract": XSS_ABSTRACT,
    "keywords": ["<svg onload=alert(1)>", "security"],
    "topic": {"area": "测试领域", "label": "双语测试主题"},
    "summary": {}, "sources": [],
}


def build_web_db(directory: Path, seeds: tuple[str, ...] = ("000", "001", "002", "003"), name: str = "web.db") -> Path:
    extra = directory / "extra.jsonl"
    extra.write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in (BILINGUAL, HOSTILE)) + "\n",
                     encoding="utf-8")
    db = directory / name
    store = Store(db)
    report = ingest_paths(store, [*(next(SAMPLE.glob(f"{s}_*.txt")) for s in seeds), extra], as_of=date(2026, 11, 23))
    assert report.rejected == 0, report
    store.close()
    return db
