"""The JSON API's response models: the OpenAPI document names a model for every /api/ answer, /docs shows
them, and real answers are exactly what their model describes (nothing dropped, nothing coerced)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from paperlens.web import api
from paperlens.web.app import create_app

from .web_corpus import BILINGUAL, build_web_db

TOKEN = "models-test-token"
UPLOAD = "\n".join(json.dumps({"id": f"arxiv:2612.{n:05d}", "title": f"Upload number {n} about sparse probes",
                               "abstract": f"We study sparse probes, take {n}, on twelve tasks and report them."})
                   for n in range(3)) + "\n" + "{not json\n"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return build_web_db(tmp_path_factory.mktemp("api-models"))


@pytest.fixture(scope="module")
def client(db):
    with TestClient(create_app(str(db), write_token=None)) as c:
        yield c


def model_named(ref: str) -> type[BaseModel]:
    model = getattr(api, ref.rsplit("/", 1)[-1])
    assert isinstance(model, type) and issubclass(model, BaseModel), ref
    return model


def schema_of(spec: dict, path: str, method: str, status: str) -> dict:
    return spec["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]


def assert_exactly(model: type[BaseModel], body: dict) -> None:
    """The body validates, and dumping the validated model gives the body back: no key the model does
    not declare (it would be dropped), no value it would change."""
    parsed = model.model_validate(body)
    assert parsed.model_dump(mode="json") == body


def test_every_api_route_names_a_model_for_its_answers(client):
    spec = client.get("/openapi.json").json()
    operations = [(path, method, op) for path, ops in spec["paths"].items() if path.startswith("/api/")
                  for method, op in ops.items()]
    assert {path for path, _, _ in operations} >= {"/api/papers", "/api/papers/{pid}", "/api/topics",
                                                   "/api/authors/{slug}", "/api/search", "/api/ingest"}
    components = spec["components"]["schemas"]
    for path, method, op in operations:
        ok = schema_of(spec, path, method, "200")
        assert "$ref" in ok, f"{method} {path}: no response model for 200 ({ok})"
        assert ok["$ref"].rsplit("/", 1)[-1] in components
        model_named(ok["$ref"])
        for status, answer in op["responses"].items():
            schema = answer["content"]["application/json"]["schema"]
            refs = [s["$ref"] for s in schema.get("anyOf", [schema])]
            assert refs and all(r.rsplit("/", 1)[-1] in components for r in refs), (method, path, status)
            # Bad parameters answer 400 with an ApiError (the app's handler), never FastAPI's 422 shape.
            assert not any(r.endswith("/HTTPValidationError") for r in refs), (method, path, status)
    assert "HTTPValidationError" not in components
    for name, schema in components.items():
        if name in {m.__name__ for m in (api.PaperBrief, api.PaperList, api.TopicList, api.SearchResults)}:
            assert schema.get("required"), name  # listing fields are always present


def test_docs_page_shows_each_model_and_links_answers_to_it(client):
    spec = client.get("/openapi.json").json()
    html = client.get("/docs").text
    for name in spec["components"]["schemas"]:
        assert f'id="schema-{name}"' in html, name
    assert 'href="#schema-PaperList"' in html and 'href="#schema-SearchResults"' in html
    assert "list of PaperBrief" in html and "HTTPValidationError" not in html


def test_real_answers_are_exactly_their_models(client):
    spec = client.get("/openapi.json").json()

    def check(path_template: str, url: str, status: int = 200, **params) -> dict:
        response = client.get(url, params=params)
        assert response.status_code == status, (url, response.text[:300])
        body = response.json()
        assert_exactly(model_named(schema_of(spec, path_template, "get", str(status))["$ref"]), body)
        return body

    listed = check("/api/papers", "/api/papers", limit=500)
    assert len(listed["papers"]) == min(500, listed["total"]) and listed["total"] > 20
    check("/api/papers", "/api/papers", limit=5, offset=2)
    check("/api/papers", "/api/papers", year=2025, limit=500)
    topics = check("/api/topics", "/api/topics")
    for topic in topics["topics"]:
        in_topic = check("/api/papers", "/api/papers", topic=topic["slug"], limit=500)
        assert in_topic["total"] == topic["papers"]
    for paper in listed["papers"]:
        detail = check("/api/papers/{pid}", f"/api/papers/{quote(paper['id'], safe=':')}")
        assert detail["id"] == paper["id"] and isinstance(detail["provenance"], dict)
    bilingual = check("/api/papers/{pid}", f"/api/papers/{BILINGUAL['id']}")
    assert bilingual["summary"]["en"]["problem"] == "English problem"
    check("/api/authors/{slug}", "/api/authors/qiaozhi-he")
    for query in ("memory", "attention", "", "注意力 机制", '"unbalanced'):
        found = check("/api/search", "/api/search", q=query, limit=50)
        assert all(isinstance(hit["score"], float) for hit in found["results"])
    for url, params, template, status in (
            ("/api/papers", {"limit": "abc"}, "/api/papers", 400), ("/api/papers", {"topic": "nope"}, "/api/papers", 404),
            ("/api/papers/nope", {}, "/api/papers/{pid}", 404), ("/api/authors/nobody", {}, "/api/authors/{slug}", 404),
            ("/api/search", {"q": "x", "limit": 0}, "/api/search", 400)):
        error = check(template, url, status, **params)
        assert error["status"] == status


def test_a_search_answer_is_still_cached(client):
    app = client.app
    params = {"q": "memory", "limit": 7}
    first = client.get("/api/search", params=params)
    entries = len(app.state.page_cache.items)
    second = client.get("/api/search", params=params)
    assert first.content == second.content and "x-pl-cacheable" not in second.headers
    assert entries >= 1 and len(app.state.page_cache.items) == entries  # the second was a hit


def test_ingest_answers_are_their_models(tmp_path):
    db = build_web_db(tmp_path)
    with TestClient(create_app(str(db), write_token=TOKEN)) as client:
        spec = client.get("/openapi.json").json()
        auth = {"authorization": f"Bearer {TOKEN}"}
        done = client.post("/api/ingest?name=up.jsonl", content=UPLOAD, headers=auth)
        assert done.status_code == 200, done.text
        assert_exactly(model_named(schema_of(spec, "/api/ingest", "post", "200")["$ref"]), done.json())
        assert done.json()["new"] == 3 and done.json()["rejected"] == 1
        refused = client.post("/api/ingest?name=up.jsonl", content=UPLOAD)
        assert refused.status_code == 401
        assert_exactly(model_named(schema_of(spec, "/api/ingest", "post", "401")["$ref"]), refused.json())
        rejected = client.post("/api/ingest?name=bad.jsonl&format=jsonl", content="{not json\n", headers=auth)
        assert rejected.status_code == 422, rejected.text
        assert_exactly(model_named(schema_of(spec, "/api/ingest", "post", "422")["$ref"]), rejected.json())
        unreadable = client.post("/api/ingest?name=what.jsonl", content="{not json\n", headers=auth)
        assert unreadable.status_code == 400 and unreadable.json()["errors"]
        either = [model_named(s["$ref"]) for s in schema_of(spec, "/api/ingest", "post", "400")["anyOf"]]
        assert api.IngestReport in either and api.ApiError in either
        assert_exactly(api.IngestReport, unreadable.json())
        unknown = client.post("/api/ingest?format=nope", content="x", headers=auth)
        assert unknown.status_code == 400
        assert_exactly(api.ApiError, unknown.json())


def test_a_merged_paper_answers_with_its_merge_notes(tmp_path):
    """Provenance holds merge notes (lists) beside the per-field sources: the model must take them, not 500."""
    from paperlens.ingest.pipeline import ingest_paths
    from paperlens.store import Store

    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text(json.dumps({"id": "arxiv:2612.00001", "title": "Walrus tusks in the wild",
                                 "abstract": "We measure walrus tusks on twelve beaches."}) + "\n")
    second.write_text(json.dumps({"id": "arxiv:2612.00001", "title": "Walrus tusks in the wild",
                                  "abstract": "We measure walrus tusks on twelve beaches.", "year": 2026}) + "\n")
    store = Store(tmp_path / "m.db")
    ingest_paths(store, [first])
    ingest_paths(store, [second])
    store.close()
    with TestClient(create_app(str(tmp_path / "m.db"), write_token=None)) as c:
        answer = c.get("/api/papers/" + quote("arxiv:2612.00001", safe=""))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["provenance"]["merges"] and isinstance(body["provenance"]["merges"], list)
    assert api.PaperDetail.model_validate(body).model_dump(mode="json") == body
