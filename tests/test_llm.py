"""llm-summary against a real OpenAI-compatible HTTP server on 127.0.0.1 (tests/fake_llm.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperlens.cli import main
from paperlens.core.models import SUMMARY_FIELDS, Summary, Topic
from paperlens.core.plugins import hookimpl, pm
from paperlens.enrich.base import STEPS, Step
from paperlens.enrich.llm import client as llm_client
from paperlens.enrich.llm.schema import NO_TOPIC, is_placeholder, taxonomy_labels
from paperlens.enrich.llm.step import LLMSummaryStep
from paperlens.enrich.models.taxonomy import load_taxonomy
from paperlens.enrich.registry import load_steps
from paperlens.enrich.runner import pending_papers, run_step
from paperlens.enrich.views import resolved_paper
from paperlens.store import Store

from .fake_llm import FakeLLM
from .llm_helpers import fake_env, fake_settings, make_papers

ROOT = Path(__file__).resolve().parents[1]
# the built-in taxonomy, read from its data file (the LLM step offers the active taxonomy's labels)
LLM_2026 = load_taxonomy("llm-2026")
LLM_2026_LABELS, LLM_2026_AREA = LLM_2026.label_ids, LLM_2026.area_label

OUTCOME_TITLES = ["Sparse Attention Routing", "Beta Repair [[malformed-once]]", "Gamma Throttled [[429]]",
                  "Delta Placeholder [[placeholder]]", "Epsilon Flaky [[500]]", "Zeta Slow [[slow]]",
                  "Eta Broken [[malformed]]", "Theta Half [[fail-zh]]", "Iota Down [[down]]"]


@pytest.fixture
def fake():
    llm_client.PLAIN_JSON_ENDPOINTS.clear()
    with FakeLLM(slow_seconds=6) as server:
        yield server


def _rows(store: Store) -> dict[str, dict]:
    return {p.id: store.enrichments_for(p.id).get("llm-summary") for p in store.iter_papers()}


def test_every_outcome_recorded_and_nothing_sent_twice(store, fake):
    papers = make_papers(OUTCOME_TITLES)
    papers[0].tldr = "A tldr the source gave."
    store.ingest(papers)
    # timeout well under [[slow]]'s 6 s, well over a normal answer even on a loaded machine
    settings = fake_settings(fake.base_url, timeout=2, max_retries=2, price_input_per_1m=2.0,
                             price_output_per_1m=8.0)
    step = LLMSummaryStep(settings, ["zh", "en"])
    report = run_step(store, step, batch_size=4)
    by_title = {p.title: p.id for p in papers}
    rows = {title: store.enrichments_for(pid)["llm-summary"] for title, pid in by_title.items()}
    status = {title: row["status"] for title, row in rows.items()}
    assert status == {
        "Sparse Attention Routing": "ok", "Beta Repair [[malformed-once]]": "ok", "Gamma Throttled [[429]]": "ok",
        "Delta Placeholder [[placeholder]]": "failed", "Epsilon Flaky [[500]]": "ok", "Zeta Slow [[slow]]": "ok",
        "Eta Broken [[malformed]]": "failed", "Theta Half [[fail-zh]]": "failed", "Iota Down [[down]]": "failed"}
    assert (report.done, report.failed) == (5, 4)

    # failures carry their reason and store nothing else
    assert "placeholder text 'N/A'" in rows["Delta Placeholder [[placeholder]]"]["error"]
    assert "invalid output after one repair request" in rows["Eta Broken [[malformed]]"]["error"]
    assert "not valid JSON" in rows["Eta Broken [[malformed]]"]["error"]
    half = rows["Theta Half [[fail-zh]]"]["error"]
    assert half.startswith("zh: invalid output") and "en:" not in half
    assert "gave up after 3 attempts: HTTP 503" in rows["Iota Down [[down]]"]["error"]
    for title in ("Delta Placeholder [[placeholder]]", "Eta Broken [[malformed]]", "Theta Half [[fail-zh]]"):
        assert rows[title]["output"] is None
        view = resolved_paper(store, by_title[title])
        assert view.summary == {} and view.tldr is None and view.topic is None

    # request accounting per (title, lang)
    def count(title, lang, kind=None, status=None):
        return sum(1 for r in fake.requests if r["title"] == title and r["lang"] == lang
                   and (kind is None or r["kind"] == kind) and (status is None or r["status"] == status))

    for lang in ("zh", "en"):
        assert count("Sparse Attention Routing", lang) == 1
        assert count("Beta Repair [[malformed-once]]", lang, "summary") == 1
        assert count("Beta Repair [[malformed-once]]", lang, "repair") == 1
        assert count("Eta Broken [[malformed]]", lang) == 2  # the answer and one repair, then failed
        assert count("Epsilon Flaky [[500]]", lang, status=500) == 1 and count("Epsilon Flaky [[500]]", lang) == 2
        assert count("Zeta Slow [[slow]]", lang) == 2  # timed out once, retried
        assert count("Iota Down [[down]]", lang) == 3  # first try + max_retries
        throttled = [r["at"] for r in fake.requests if r["title"] == "Gamma Throttled [[429]]" and r["lang"] == lang]
        assert len(throttled) == 2 and throttled[1] - throttled[0] >= 0.95  # Retry-After: 1 honoured
    assert count("Theta Half [[fail-zh]]", "en") == 1 and count("Theta Half [[fail-zh]]", "zh") == 2

    # the view: LLM digest in both languages, source tldr kept, keywords and topic filled
    view = resolved_paper(store, by_title["Sparse Attention Routing"])
    assert view.tldr == "A tldr the source gave."
    assert set(view.summary) == {"zh", "en"}
    assert all(getattr(view.summary["en"], f) for f in SUMMARY_FIELDS)
    assert "Sparse Attention Routing" in view.summary["zh"].method and "方法" in view.summary["zh"].method
    assert view.keywords and view.topic.label in LLM_2026_LABELS and view.topic.area == LLM_2026_AREA
    assert view.extra["llm_summary"]["model"] == "fake-model"
    assert view.extra["llm_summary"]["prompt_version"] == step.prompt_version
    other = resolved_paper(store, by_title["Zeta Slow [[slow]]"])
    assert other.tldr.startswith("The paper proposes Zeta Slow")  # English is the primary tldr language

    # usage: the ledger counts every request the server saw; cost from the configured prices
    stats = store.stats()["llm"]
    assert stats["requests"] == len(fake.requests)
    assert stats["input_tokens"] > 0 and stats["output_tokens"] > 0
    expected = (stats["input_tokens"] * 2.0 + stats["output_tokens"] * 8.0) / 1e6
    assert stats["estimated_cost"] == pytest.approx(expected, rel=1e-4)
    ok_output = rows["Sparse Attention Routing"]["output"]
    assert ok_output["usage"]["requests"] == 2 and ok_output["usage"]["cost"] > 0

    # a rerun sends nothing; retrying failed papers re-sends only the languages that failed
    before = len(fake.requests)
    again = run_step(store, LLMSummaryStep(settings, ["zh", "en"]), retry_failed=False)
    assert len(fake.requests) == before and again.done == 0 and again.skipped == len(papers)
    run_step(store, LLMSummaryStep(settings, ["zh", "en"]), retry_failed=True)
    resent = fake.requests[before:]
    assert {(r["title"], r["lang"]) for r in resent} == {
        ("Delta Placeholder [[placeholder]]", "zh"), ("Delta Placeholder [[placeholder]]", "en"),
        ("Eta Broken [[malformed]]", "zh"), ("Eta Broken [[malformed]]", "en"),
        ("Theta Half [[fail-zh]]", "zh"), ("Iota Down [[down]]", "zh"), ("Iota Down [[down]]", "en")}


def test_response_format_fallback_is_remembered_per_endpoint(store, fake):
    fake.reject_response_format = True
    store.ingest(make_papers(["Alpha Model", "Beta Model", "Gamma Model"]))
    settings = fake_settings(fake.base_url, concurrency=1)
    report = run_step(store, LLMSummaryStep(settings, ["en"]))
    assert report.done == 3
    with_schema = [r for r in fake.requests if r["response_format"]]
    assert len(with_schema) == 1 and with_schema[0]["status"] == 400
    assert all(r["status"] == 200 for r in fake.requests[1:]) and len(fake.requests) == 4
    # a new step (and client) on the same endpoint goes straight to plain JSON
    store.ingest(make_papers(["Delta Model", "Epsilon Model", "Zeta Model", "Eta Model"], prefix="q"))
    before = len(fake.requests)
    run_step(store, LLMSummaryStep(settings, ["en"]))
    new = fake.requests[before:]
    assert len(new) == 4 and not any(r["response_format"] for r in new)


def test_cut_off_answers_fail_with_the_reason(store, fake):
    store.ingest(make_papers(["Long Paper [[length]]"]))
    report = run_step(store, LLMSummaryStep(fake_settings(fake.base_url), ["en"]))
    row = store.enrichments_for("p000")["llm-summary"]
    assert report.failed == 1 and row["output"] is None
    assert "cut off at max_output_tokens=1500" in row["error"] and len(fake.requests) == 2


def test_requests_per_minute_limit_spaces_requests(store, fake):
    async def starts(limiter, n):
        out = []
        for _ in range(n):
            await limiter.wait()
            out.append(time.monotonic())
        return out

    import asyncio

    times = asyncio.run(starts(llm_client.RateLimiter(600), 5))  # one start every 0.1 s
    # the k-th start comes no sooner than k intervals after the first (slots follow an ideal schedule)
    assert all(t - times[0] >= k * 0.1 - 0.005 for k, t in enumerate(times))
    store.ingest(make_papers([f"Paper {i}" for i in range(6)]))
    settings = fake_settings(fake.base_url, concurrency=6, requests_per_minute=600)
    began = time.monotonic()
    run_step(store, LLMSummaryStep(settings, ["en"]))
    assert len(fake.requests) == 6 and time.monotonic() - began >= 0.5  # six starts need five gaps


def test_concurrency_is_bounded(store, fake):
    fake.latency = 0.1
    store.ingest(make_papers([f"Paper {i}" for i in range(12)]))
    run_step(store, LLMSummaryStep(fake_settings(fake.base_url, concurrency=3), ["zh", "en"]))
    assert fake.max_in_flight == 3 and len(fake.requests) == 24


def test_changed_prompt_marks_summaries_stale(store, fake, tmp_path):
    store.ingest(make_papers(["Alpha Model", "Beta Model"]))
    step = LLMSummaryStep(fake_settings(fake.base_url), ["en"])
    run_step(store, step)
    assert len(fake.requests) == 2
    prompt_dir = tmp_path / "prompts"
    prompt_dir.mkdir()
    original = (ROOT / "src/paperlens/prompts/llm-summary.v1.md").read_text(encoding="utf-8")
    (prompt_dir / "llm-summary.v1.md").write_text(original.replace("careful", "meticulous"), encoding="utf-8")
    edited = LLMSummaryStep(fake_settings(fake.base_url, prompt_dir=prompt_dir), ["en"])
    assert edited.prompt.path.parent == prompt_dir and edited.version != step.version
    assert len(pending_papers(store, edited)) == 2  # stale under the new prompt
    run_step(store, edited)
    assert len(fake.requests) == 4
    assert all(r["version"] == edited.version for r in _rows(store).values())
    (prompt_dir / "llm-summary.v2.md").write_text(original, encoding="utf-8")
    newer = LLMSummaryStep(fake_settings(fake.base_url, prompt_dir=prompt_dir), ["en"])
    assert newer.prompt_version.startswith("v2-")
    # the same prompt under the same step version is not sent again, even by a fresh step object
    run_step(store, LLMSummaryStep(fake_settings(fake.base_url, prompt_dir=prompt_dir), ["en"]))
    assert len(fake.requests) == 6


def test_llm_beats_local_digest_but_not_source_values(store, fake):
    class LocalDigest(Step):  # stands in for a local extractive summary step
        name = "test-local-digest"
        priority = 200

        def run(self, papers):
            from paperlens.enrich.base import StepResult

            return [StepResult(p.id, output={"method": "local extractive sentence", "topic": "模型架构"})
                    for p in papers]

        @classmethod
        def apply(cls, paper, output):
            summary = paper.summary.setdefault("en", Summary())
            if not summary.method:
                summary.method = output["method"]
            if paper.topic is None:
                paper.topic = Topic(label=output["topic"])

    class Plugin:  # registered like any plugin, so views know its priority
        @hookimpl
        def register_steps(self):
            return [LocalDigest]

    pm.register(Plugin(), name="test-local-digest-plugin")
    try:
        assert "test-local-digest" in STEPS
        papers = make_papers(["Alpha Model", "Beta Model"])
        papers[1].summary["en"] = Summary(method="method the source wrote")
        store.ingest(papers)
        run_step(store, LocalDigest())
        run_step(store, LLMSummaryStep(fake_settings(fake.base_url), ["en"]))
        alpha, beta = resolved_paper(store, "p000"), resolved_paper(store, "p001")
        assert alpha.summary["en"].method == "A method named Alpha Model."
        assert beta.summary["en"].method == "method the source wrote"
        assert beta.summary["en"].problem == "Existing methods struggle with Beta Model."
    finally:
        pm.unregister(name="test-local-digest-plugin")
    assert "test-local-digest" not in STEPS


def test_validation_rejects_placeholders_and_unknown_topics():
    assert all(is_placeholder(t) for t in ["N/A", "  none. ", "未提及", "[method]", "<fill in>", "TBD", "…"])
    assert not any(is_placeholder(t) for t in ["We propose X.", "无监督学习方法", "N/A-free decoding"])
    from paperlens.enrich.llm.schema import parse_digest

    good = {"tldr": "t", "motivation": "m", "problem": "p", "observation": "o", "method": "x", "experiments": "e",
            "contribution": "c", "keywords": ["k"], "topic": "agent与工具使用"}
    assert parse_digest(json.dumps(good), LLM_2026_LABELS, "en").topic == "Agent 与工具使用"
    # A topic outside the labels (or null, or missing) keeps the answer: the topic is "none of these".
    odd = parse_digest(json.dumps({**good, "topic": "Robotics"}), LLM_2026_LABELS, "en")
    assert (odd.topic, odd.topic_reply, odd.method) == (NO_TOPIC, "Robotics", "x")
    for value in (None, 3, "", ["推理与思维链"]):
        assert parse_digest(json.dumps({**good, "topic": value}), LLM_2026_LABELS, "en").topic == NO_TOPIC
    missing = {k: v for k, v in good.items() if k != "topic"}
    assert parse_digest(json.dumps(missing), LLM_2026_LABELS, "en").topic == NO_TOPIC
    with pytest.raises(ValueError, match="must be written in Chinese"):
        parse_digest(json.dumps(good), LLM_2026_LABELS, "zh")
    # an English digest written in Chinese was stored as the English summary
    chinese = {**good, **{k: "我们提出一种新的检索方法" for k in ("tldr", "method")}}
    with pytest.raises(ValueError, match="must be written in English"):
        parse_digest(json.dumps(chinese), LLM_2026_LABELS, "en")
    named = {**good, "method": "We fine-tune on the 中文 split of CLUE and report accuracy."}
    assert parse_digest(json.dumps(named), LLM_2026_LABELS, "en").method == named["method"]
    # a 10 MB 'method' was stored as the summary (and shown on every page of the paper)
    with pytest.raises(ValueError, match="at most 4000"):
        parse_digest(json.dumps({**good, "method": "We scale. " * 1_000_000}), LLM_2026_LABELS, "en")
    assert parse_digest(json.dumps({**good, "method": "We scale. " * 300}), LLM_2026_LABELS, "en")
    assert taxonomy_labels() == LLM_2026_LABELS


def test_labels_come_from_the_active_taxonomy(store, fake, tmp_path, monkeypatch):
    """No copy of the labels in the code: another taxonomy (PAPERLENS_TAXONOMY) is what the model is offered,
    in the prompt, the JSON schema and the step version, and what the paper's topic is checked against."""
    home = tmp_path / "home"
    (home / "taxonomies" / "tiny").mkdir(parents=True)
    (home / "taxonomies" / "tiny" / "taxonomy.json").write_text(json.dumps({
        "name": "tiny", "area": {"zh": "测试", "en": "Test area"},
        "labels": [{"id": "Graphs", "zh": "图", "en": "Graphs"}, {"id": "Robots", "zh": "机器人", "en": "Robots"}]}),
        encoding="utf-8")
    default_step = LLMSummaryStep(fake_settings(fake.base_url), ["en"])
    monkeypatch.setenv("PAPERLENS_HOME", str(home))
    monkeypatch.setenv("PAPERLENS_TAXONOMY", "tiny")
    step = LLMSummaryStep(fake_settings(fake.base_url), ["en"])
    assert step.labels == ["Graphs", "Robots"] and step.topic_area == "测试"
    assert step.version != default_step.version  # other labels, other answers
    store.ingest(make_papers(["Alpha Model"]))
    run_step(store, step)
    # the fake server answers with one of the labels it was offered (schema enum or prompt)
    assert store.enrichments_for("p000")["llm-summary"]["output"]["topic"] in ("Graphs", "Robots")
    view = resolved_paper(store, "p000")
    assert view.topic.label in ("Graphs", "Robots") and view.topic.area == "测试"
    monkeypatch.setenv("PAPERLENS_TAXONOMY", "no-such-taxonomy")
    with pytest.raises(ValueError, match="unknown taxonomy 'no-such-taxonomy'"):
        LLMSummaryStep(fake_settings(fake.base_url), ["en"])


def test_an_unknown_llm_client_is_a_configuration_error(fake, monkeypatch):
    monkeypatch.setenv("PAPERLENS_LLM_CLIENT", "carrier-pigeon")
    with pytest.raises(ValueError, match="unknown LLM client 'carrier-pigeon'.*known: openai"):
        LLMSummaryStep(fake_settings(fake.base_url), ["en"])


def test_a_reply_with_a_null_or_unknown_topic_keeps_its_summary(store, fake):
    """Issue 14.10: a paper outside the taxonomy is normal. The six fields are kept (no repair request),
    the topic is recorded as "none of these" and the paper gets no topic label from it."""
    papers = make_papers(["Null Topic [[null-topic]]", "Odd Topic [[odd-topic]]", "Plain Topic Paper"])
    store.ingest(papers)
    report = run_step(store, LLMSummaryStep(fake_settings(fake.base_url), ["zh", "en"]))
    assert (report.done, report.failed) == (3, 0)
    assert not [r for r in fake.requests if r["kind"] == "repair"]
    for paper in papers[:2]:
        row = store.enrichments_for(paper.id)["llm-summary"]
        assert row["status"] == "ok" and row["output"]["topic"] == NO_TOPIC
        assert set(row["output"]["summary"]) == {"zh", "en"}
        view = resolved_paper(store, paper.id)
        assert all(getattr(view.summary[lang], f) for lang in ("zh", "en") for f in SUMMARY_FIELDS)
        assert view.topic is None and view.tldr and view.keywords
    odd = store.enrichments_for(papers[1].id)["llm-summary"]["output"]["summary"]["en"]
    assert odd["topic_reply"] == "Robotics"
    assert resolved_paper(store, papers[2].id).topic.label in LLM_2026_LABELS


def test_cli_needs_a_key_and_known_languages(db_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith(("PAPERLENS_LLM_", "OPENAI_")):
            monkeypatch.delenv(name)
    Store(db_path).ingest(make_papers(["Alpha Model"]))
    result = CliRunner().invoke(main, ["--db", str(db_path), "enrich", "--steps", "llm-summary"])
    assert result.exit_code == 2 and "no API key" in result.output
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    result = CliRunner().invoke(main, ["--db", str(db_path), "enrich", "--steps", "llm-summary", "--lang", "fr"])
    assert result.exit_code == 2 and "unsupported language(s) fr" in result.output
    assert load_steps()["llm-summary"].default is False


def _enrich_process(db: Path, env: dict[str, str]) -> subprocess.Popen:
    full = {**os.environ, **env, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen(
        [sys.executable, "-c", "from paperlens.cli import main; main(prog_name='paperlens')", "--db", str(db),
         "enrich", "--steps", "llm-summary", "--lang", "zh,en", "--batch-size", "8"],
        env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_killed_run_resumes_without_resending(db_path, fake):
    fake.latency = 0.05
    titles = [f"Resumable Paper {i}" for i in range(24)]
    Store(db_path).ingest(make_papers(titles))
    env = fake_env(fake.base_url)
    first = _enrich_process(db_path, env)
    deadline = time.monotonic() + 180
    while fake.served < 14 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.005)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert first.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    killed_at = len(fake.requests)
    assert 14 <= killed_at < 48
    killed_done = sum(1 for row in _rows(Store(db_path)).values() if row and row["status"] == "ok")

    second = _enrich_process(db_path, env)
    out, err = second.communicate(timeout=180)
    assert second.returncode == 0, err
    counts = fake.summary_requests()
    assert set(counts) == {(t, lang) for t in titles for lang in ("zh", "en")}
    # only requests in flight at the kill (at most `concurrency` of them) may have been sent twice
    duplicates = sum(n - 1 for n in counts.values())
    assert duplicates <= 4
    store = Store(db_path)
    rows = _rows(store)
    assert all(row["status"] == "ok" for row in rows.values()) and len(rows) == 24
    assert f"done {24 - killed_done}, failed 0, skipped {killed_done}" in out

    before = len(fake.requests)
    third = CliRunner().invoke(main, ["--db", str(db_path), "enrich", "--steps", "llm-summary", "--lang", "zh,en"],
                               env=env)
    assert third.exit_code == 0, third.output
    assert len(fake.requests) == before and "done 0, failed 0, skipped 24" in third.output

    # stats and show report the LLM work
    stats = CliRunner().invoke(main, ["--db", str(db_path), "stats", "--json"])
    # the ledger holds every request whose answer was received; those lost in the kill were sent again
    assert json.loads(stats.output)["llm"]["requests"] == before - duplicates
    shown = CliRunner().invoke(main, ["--db", str(db_path), "show", "p000"])
    assert "llm-summary" in shown.output and "fake-model" in shown.output


def test_answers_from_a_batch_job_are_cached_and_used(store, fake):
    papers = make_papers(["Alpha Model", "Beta Model"])
    store.ingest(papers)
    step = LLMSummaryStep(fake_settings(fake.base_url), ["en"])
    step.bind_store(store)
    answer = {"tldr": "Alpha does X.", "motivation": "m.", "problem": "p.", "observation": "o.", "method": "x.",
              "experiments": "e.", "contribution": "c.", "keywords": ["alpha"], "topic": LLM_2026_LABELS[1]}
    step.store_answer(papers[0], "en", json.dumps(answer), 100, 50)
    with pytest.raises(ValueError, match="placeholder"):
        step.store_answer(papers[1], "en", json.dumps({**answer, "method": "N/A"}))
    run_step(store, LLMSummaryStep(fake_settings(fake.base_url), ["en"]))
    assert [r["title"] for r in fake.requests] == ["Beta Model"]
    assert resolved_paper(store, "p000").tldr == "Alpha does X."
    assert store.enrichments_for("p000")["llm-summary"]["output"]["usage"]["input_tokens"] == 100


def test_settings_from_environment(monkeypatch):
    from paperlens.enrich.llm.settings import LLMSettings

    for name in list(os.environ):
        if name.startswith(("PAPERLENS_LLM_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OPENAI_API_KEY", "openai-key")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://openai.example/v1")
    monkeypatch.setenv("PAPERLENS_LLM_BASE_URL", "http://local.example/v1")
    monkeypatch.setenv("PAPERLENS_LLM_LANGUAGES", "en")
    monkeypatch.setenv("PAPERLENS_LLM_TOPICS", "Vision, Language")
    monkeypatch.setenv("PAPERLENS_LLM_CONCURRENCY", "3")
    settings = LLMSettings()
    assert settings.key_value() == "openai-key" and settings.base_url == "http://local.example/v1"
    assert settings.languages == ["en"] and settings.concurrency == 3
    assert taxonomy_labels(settings) == ["Vision", "Language"]
    monkeypatch.setenv("PAPERLENS_LLM_API_KEY", "paperlens-key")
    assert LLMSettings().key_value() == "paperlens-key"
    monkeypatch.setenv("PAPERLENS_LLM_CONCURRENCY", "0")
    with pytest.raises(ValueError, match="PAPERLENS_LLM_CONCURRENCY"):
        LLMSettings()
