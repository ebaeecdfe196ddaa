"""Profiles in the store (migration 6), made from library files; recommend with reasons; the CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from paperlens.cli import main
from paperlens.recommend.profiles import ProfileError, add_profile, describe, mark, recommend
from paperlens.recommend.rank import author_key
from tests.profile_corpus import made_up, write_bibtex, write_jsonl


@pytest.fixture
def corpus(tmp_path, store):
    """A store with 40 graph and 40 speech papers; a BibTeX library of 8 other graph papers."""
    from paperlens.ingest.pipeline import ingest_paths

    papers = made_up("graphs", 40, 1) + made_up("speech", 40, 2)
    ingest_paths(store, [write_jsonl(tmp_path / "pool.jsonl", papers)])
    library = write_bibtex(tmp_path / "library.bib", made_up("graphs", 8, 3, start=100))
    return store, library, papers


def test_profile_add_marks_library_positives(corpus):
    store, library, _ = corpus
    before = store.count()
    report = add_profile(store, "ana", [library], {"authors": ["Jörg Müller"], "categories": ["cs.LG"]})
    assert len(report.ids) == 8 and store.count() == before + 8
    info = describe(store, "ana")
    assert info["counts"]["library"] == 8
    assert info["settings"]["authors"] == ["Jörg Müller"] and info["settings"]["categories"] == ["cs.LG"]
    assert store.schema_version() >= 6


def test_profile_errors_are_sentences(corpus, tmp_path):
    store, library, _ = corpus
    with pytest.raises(ProfileError, match="not an arXiv category"):
        add_profile(store, "ana", [library], {"categories": ["cs CL"]})
    empty = tmp_path / "ids.txt"
    empty.write_text("arXiv:2101.99999\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"ids.txt:1: arXiv:2101.99999"):
        add_profile(store, "ana", [empty], {})
    with pytest.raises(ProfileError, match="no profile 'nobody'"):
        recommend(store, "nobody")



@pytest.mark.parametrize("name", ["ana\n", "a..b", "ana\r", "../x", "a b", "ü"])
def test_profile_names_that_break_a_header_or_the_site_are_refused(corpus, tmp_path, name):
    # 'ana\n' passed the `^...$` check (a ValueError traceback when the Subject header was set), and 'a..b'
    # was accepted here but refused by the static site writer, after the mail had been sent.
    store, library, _ = corpus
    with pytest.raises(ProfileError, match="profile name"):
        add_profile(store, name, [library], {})
    assert store.profile_names() == []
    add_profile(store, "a.b-c_1", [library], {})  # the allowed characters still are
    from paperlens.web.profiles import write_profile_site

    assert write_profile_site(store, tmp_path / "site")


def test_site_export_skips_a_stored_unsafe_profile_name_with_a_warning(corpus, tmp_path, db_path):
    # Databases made before names were checked may hold 'a..b' or 'ana\n': `export --format site` ended in
    # "ValueError: unsafe profile name" and wrote no profile at all.
    store, library, _ = corpus
    add_profile(store, "good", [library], {})
    for bad in ("a..b", "ana\n"):
        store.profile_save(bad, {})
    out = tmp_path / "site"
    result = CliRunner().invoke(main, ["--db", str(db_path), "export", "--format", "site", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "profile 'a..b': skipped" in result.stderr and "paperlens profile remove a..b" in result.stderr
    assert "profile 'ana\\n': skipped" in result.stderr
    assert "paperlens profile remove $'ana\\x0a'" in result.stderr
    assert (out / "profiles" / "good" / "index.html").is_file()
    assert (out / "feeds" / "profiles" / "good.atom").is_file()
    assert sorted(p.name for p in (out / "profiles").iterdir()) == ["good", "index.html"]
    index = (out / "profiles" / "index.html").read_text(encoding="utf-8")
    assert "good/index.html" in index and "a..b" not in index
    assert (out / "index.html").is_file()  # everything else is exported
    # the remedy it names works
    removed = CliRunner().invoke(main, ["--db", str(db_path), "profile", "remove", "ana\n"])
    assert removed.exit_code == 0, removed.output


def test_recommend_ranks_the_library_topic_first_with_reasons(corpus):
    store, library, papers = corpus
    add_profile(store, "ana", [library], {"include": ["link prediction"]})
    results = recommend(store, "ana", limit=20)
    assert len(results) == 20
    titles = {p["title"]: p["topic"] for p in papers}
    topic_of = {r.id: titles.get(r.title) for r in results}
    assert sum(1 for t in topic_of.values() if t == "graphs") >= 18, topic_of
    assert all(r.reasons and r.reasons[0].startswith("close to ") for r in results)
    library_ids = {pid for pid, label in store.profile_papers("ana").items() if label > 0}
    assert not library_ids & {r.id for r in results}  # the library is never recommended
    matched = [r for r in results if any("matches 'link prediction'" in x for x in r.reasons)]
    assert matched and all("link prediction" in store.get(r.id).abstract.lower() + store.get(r.id).title.lower()
                           for r in matched)


def test_followed_author_and_exclude(corpus):
    store, library, papers = corpus
    add_profile(store, "ana", [library], {"authors": ["Ann Speechd"], "exclude": ["over-smoothing"]})
    results = recommend(store, "ana", limit=80)
    topic = {p["title"]: p["topic"] for p in papers}
    followed = [i for i, r in enumerate(results) if any(x == "followed author Ann Speechd" for x in r.reasons)]
    assert followed and all(store.get(results[i].id).authors == ["Ann Speechd"] for i in followed)
    other_speech = [i for i, r in enumerate(results) if topic[r.title] == "speech" and i not in followed]
    assert max(followed) < min(other_speech)  # the followed author's papers come before the rest of speech
    assert author_key("Yann LeCun") == author_key("LeCun, Yann") == author_key("Y. LeCun")
    assert author_key("Jörg Müller") == author_key("Muller, J.") != author_key("Jörg Mueller-Lüdenscheidt")
    for r in results:
        paper = store.get(r.id)
        assert "over-smoothing" not in (paper.title + " " + paper.abstract).lower()


def test_dislike_and_like_change_the_labels(corpus):
    store, library, _ = corpus
    add_profile(store, "ana", [library], {})
    top = recommend(store, "ana", limit=1)[0]
    assert "disliked" in mark(store, "ana", top.id, -1)
    assert top.id not in {r.id for r in recommend(store, "ana", limit=80)}
    assert store.profile_counts("ana")["disliked"] == 1


def test_cli_profile_and_recommend_json(corpus, db_path, tmp_path):
    store, library, _ = corpus
    store.close()
    runner = CliRunner()
    ids = tmp_path / "more.txt"
    added = runner.invoke(main, ["--db", str(db_path), "profile", "add", "ana", str(library), "--include", "graph",
                                 "--category", "cs.LG"])
    assert added.exit_code == 0, added.output
    assert "profile ana: 8 library papers" in added.output
    first = json.loads(runner.invoke(main, ["--db", str(db_path), "recommend", "ana", "--limit", "1", "--json"]).output)
    ids.write_text(f"# one more\n{first['results'][0]['id']}\n", encoding="utf-8")
    again = runner.invoke(main, ["--db", str(db_path), "profile", "add", "ana", str(ids)])
    assert again.exit_code == 0 and "9 library papers" in again.output, again.output
    out = runner.invoke(main, ["--db", str(db_path), "recommend", "ana", "--limit", "5", "--json"])
    data = json.loads(out.output)
    assert data["profile"] == "ana" and len(data["results"]) == 5
    assert set(data["results"][0]) == {"id", "title", "score", "reasons"}
    assert first["results"][0]["id"] not in {r["id"] for r in data["results"]}
    listed = runner.invoke(main, ["--db", str(db_path), "profile", "list"])
    assert listed.output.startswith("ana\t9 library")
    shown = runner.invoke(main, ["--db", str(db_path), "profile", "show", "ana"])
    assert "include: graph" in shown.output and "categories: cs.LG" in shown.output
    assert runner.invoke(main, ["--db", str(db_path), "profile", "remove", "ana"]).exit_code == 0
    gone = runner.invoke(main, ["--db", str(db_path), "recommend", "ana"])
    assert gone.exit_code == 1 and "no profile 'ana'" in gone.output


@pytest.mark.parametrize("name", ["papers.bib", "refs.ris", "refs.csl.json", "papers_variants.jsonl"])
def test_profile_from_each_library_format(store, name):
    from paperlens.sources import Rejected, read_records
    from tests.conftest import FIXTURES

    path = FIXTURES / name
    report = add_profile(store, "lib", [path], {})
    papers = [r for r in read_records(path) if not isinstance(r, Rejected)]
    # every paper of the file is a positive (records of one paper merge into one)
    assert 0 < len(report.ids) <= len(papers)
    assert store.profile_counts("lib")["library"] == len(set(report.ids)) == len(report.ids)
    assert all(store.get(pid) is not None for pid in report.ids)
