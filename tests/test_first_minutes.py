"""Issue 18, "the first ten minutes": what a newcomer trips on ends in one sentence, never a traceback."""

from __future__ import annotations

import re
import socket

from click.testing import CliRunner

from paperlens.cli import main

from .conftest import sample


def run(db, *args):
    return CliRunner().invoke(main, ["--db", str(db), *args])


def _ingested(db_path):
    assert run(db_path, "ingest", "--as-of", "2026-11-23", str(sample("003"))).exit_code == 0
    return db_path


def _one_sentence(result, *expected: str) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    for part in expected:
        assert part in result.output, result.output


def test_export_jsonl_into_a_missing_folder(db_path, tmp_path):
    result = run(_ingested(db_path), "export", "--format", "jsonl", "-o", str(tmp_path / "nodir" / "x.jsonl"))
    assert result.exit_code == 1
    _one_sentence(result, "x.jsonl: cannot write (No such file or directory)")


def test_export_site_onto_a_file(db_path, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("mine\n")
    result = run(_ingested(db_path), "export", "--format", "site", "-o", str(readme))
    assert result.exit_code == 2
    _one_sentence(result, "README.md is a file")
    assert readme.read_text() == "mine\n"


def test_read_commands_on_a_missing_database_say_so_and_create_nothing(tmp_path):
    missing = tmp_path / "typo.db"
    for args in (["stats"], ["search", "reasoning"], ["show", "x"], ["similar", "x"], ["export"],
                 ["export", "--format", "site", "-o", str(tmp_path / "site")]):
        result = run(missing, *args)
        assert result.exit_code == 2, (args, result.output)
        _one_sentence(result, "typo.db: no such database")
        assert not missing.exists(), args
    assert not (tmp_path / "site").exists()


def test_serve_on_a_busy_port_fails_before_saying_serving(db_path):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        port = busy.getsockname()[1]
        result = run(_ingested(db_path), "serve", "--port", str(port))
    finally:
        busy.close()
    assert result.exit_code == 1
    _one_sentence(result, f"cannot serve on 127.0.0.1:{port}", "pass --port")
    assert "serving" not in result.output


def test_a_missing_file_names_no_line_zero(db_path, tmp_path):
    result = run(db_path, "ingest", str(tmp_path / "missing.txt"))
    _one_sentence(result, "missing.txt: no such file")
    assert "missing.txt:0" not in result.output


def test_a_failed_fetch_leaves_no_empty_folder(db_path, tmp_path):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now: the connection is refused at once
    save = tmp_path / "fetched"
    result = run(db_path, "fetch", "arxiv", "all:llm", "--base-url", f"http://127.0.0.1:{port}/api",
                 "--save-dir", str(save))
    assert result.exit_code == 1
    _one_sentence(result, "cannot reach")
    assert not save.exists()
    result = run(db_path, "fetch", "arxiv", "--new", "--category", "cs.CL", "--feed-url", f"http://127.0.0.1:{port}",
                 "--save-dir", str(save))
    assert result.exit_code == 1
    assert not save.exists()


def test_enrich_list_shows_versions_as_they_are(db_path):
    result = run(db_path, "enrich", "--list")
    assert result.exit_code == 0
    assert "vroles" not in result.output
    rows = dict(line.split("\t")[:2] for line in result.output.splitlines())
    from paperlens.enrich.registry import load_steps

    assert rows["digest"] == load_steps()["digest"].version
    assert rows["embed"] == load_steps()["embed"].version


def test_stats_counts_topics_as_the_web_does_and_says_which_are_predicted(db_path):
    import json

    from paperlens.web.catalog import Catalog

    seeds = [str(sample(p)) for p in ("000", "001", "002", "003")]
    assert run(db_path, "ingest", "--as-of", "2026-11-23", *seeds).exit_code == 0
    assert run(db_path, "enrich", "--steps", "topic").exit_code == 0
    data = json.loads(run(db_path, "stats", "--json").output)
    from paperlens.store import Store

    web = {f"{t.area or '-'} / {t.label}": len(t.ids) for t in Catalog(Store(str(db_path), readonly=True)).topics.values()}
    assert data["by_topic"] == web
    assert data["topic_origin"]["predicted"] > 0 and data["topic_origin"]["given"] > 0
    for key, n in data["by_topic"].items():
        assert n == data["by_topic_given"].get(key, 0) + data["by_topic_predicted"].get(key, 0)
    text = run(db_path, "stats").output
    assert "predicted" in text and "given by the sources" in text
    assert "None" not in text and "undated:" in text


_LATEX = __import__("re").compile(r"\\[A-Za-z]+|\\%|\$[^$]{1,40}\$")


def test_tldrs_and_summary_fields_of_the_sample_hold_no_latex():
    from paperlens.core.models import SUMMARY_FIELDS
    from paperlens.sources import read_records

    seen = 0
    for prefix in ("000", "001", "002", "003"):
        for paper in read_records(sample(prefix), as_of=__import__("datetime").date(2026, 11, 23)):
            if not hasattr(paper, "summary"):
                continue
            texts = [paper.tldr or ""] + [getattr(s, f) for s in paper.summary.values() for f in SUMMARY_FIELDS]
            for text in texts:
                seen += bool(text)
                assert not _LATEX.search(text), (paper.id, text)
    assert seen > 1000


def test_latex_in_a_source_tldr_reads_as_text(tmp_path):
    """OpenReview's TL;DR field is written by authors, often with LaTeX; it reads as text like the title."""
    import json

    from paperlens.sources import read_records

    path = tmp_path / "notes.json"
    path.write_text(json.dumps({"notes": [{"id": "Xk3vPq9LmA", "content": {
        "title": {"value": "Gradient agents"}, "authors": {"value": ["Lena Fischer"]},
        "abstract": {"value": "We study gradients of agents in multi-agent systems."},
        "TLDR": {"value": "MAS$^2$ lowers error by 14.4\\% with $\\nabla$ steps."}}}]}), encoding="utf-8")
    (paper,) = list(read_records(path, "openreview-json"))
    assert paper.tldr == "MAS² lowers error by 14.4% with ∇ steps."


def test_the_readme_tour_ids_exist_in_the_sample(db_path):
    """The tour's `show`/`similar` lines with a paper id work on the sample `make run` ingests."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    tour = readme[readme.index("## A tour"):].split("```")[1]
    ids = re.findall(r"^paperlens (?:show|similar) (h:[0-9a-f]+)", tour, re.M)
    assert ids
    seeds = [str(sample(p)) for p in ("000", "001", "002", "003")]
    assert run(db_path, "ingest", "--as-of", "2026-11-23", *seeds).exit_code == 0
    for pid in ids:
        for command in ("show", "similar"):
            result = run(db_path, command, pid)
            assert result.exit_code == 0, (command, pid, result.output)


def test_docs_try_it_links_answer_and_counts_are_singular_when_one(db_path):
    import html
    import re

    from fastapi.testclient import TestClient

    from paperlens.web.app import create_app

    seeds = [str(sample(p)) for p in ("000", "001", "002", "003")]
    assert run(db_path, "ingest", "--as-of", "2026-11-23", *seeds).exit_code == 0
    with TestClient(create_app(str(db_path))) as client:
        links = re.findall(r'class="try-it" href="([^"]+)"', client.get("/docs").text)
        assert links
        for link in map(html.unescape, links):
            answer = client.get(link)
            assert answer.status_code == 200, link
            data = answer.json()
            assert any(isinstance(v, list) and v for v in data.values()), (link, data)
            if "limit=" in link:
                assert len(next(v for v in data.values() if isinstance(v, list) and v)) <= 3, link
        one = client.get("/search?q=PretrainRL").text
        assert "1 result for" in one and "1 results" not in one
    js = __import__("pathlib").Path(__file__).resolve().parents[1] / "src/paperlens/web/static/search.js"
    assert "result.total === 1" in js.read_text()  # the static site's search status: "1 result"


def test_trends_lists_only_rising_keywords_and_names_skipped_years(tmp_path):
    import json

    from fastapi.testclient import TestClient

    from paperlens.web.app import create_app

    rows = []
    for year, n in ((2020, 3), (2023, 3)):  # 2021 and 2022 have no papers
        for i in range(n):
            rows.append({"title": f"Paper {year} {i} on graphs", "abstract": f"We study graphs number {i} in {year}.",
                         "year": year, "keywords": ["graphs", "steady topic"] + (["new thing"] if year == 2023 else [])})
    src = tmp_path / "p.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    db = tmp_path / "t.db"
    assert run(db, "ingest", str(src)).exit_code == 0
    with TestClient(create_app(str(db))) as client:
        page = client.get("/trends").text
    assert "+0.0 pt" not in page and "-" not in "".join(re.findall(r"[+-]\d+\.\d pt", page))
    assert "new thing" in page
    assert "2021, 2022" in page


def test_progress_shows_as_plain_lines_when_piped_and_pip_is_not_quiet(db_path):
    from pathlib import Path

    ingest = run(db_path, "ingest", "--as-of", "2026-11-23", str(sample("003")))
    assert re.search(r"^ingesting: 10 \(\d+ s\) done$", ingest.output, re.M), ingest.output
    quiet = run(db_path, "ingest", "-q", str(sample("003")))
    assert "ingesting:" not in quiet.output
    enrich = run(db_path, "enrich", "--steps", "title")
    assert re.search(r"^enrich title: 10/10 \(\d+ s\) done$", enrich.output, re.M), enrich.output
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    pip_lines = [line for line in makefile.splitlines() if "$(PIP) install" in line]
    assert pip_lines and not [line for line in pip_lines if " -q" in line]
