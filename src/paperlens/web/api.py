"""The JSON API under /api/: what each route answers, and the pydantic models that describe it.

The routes in app.py parse the query and call one function here; FastAPI validates the answer against
the route's `response_model`, and /docs (from the OpenAPI schema) shows every model."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, Field

from paperlens.core.models import Paper
from paperlens.web import pages
from paperlens.web.brief import display_title, topic_key


# -- response models (field order is the JSON's key order) -------------------------------------------
class ApiError(BaseModel):
    """Every /api/ error: 400 for a bad parameter, 404 for an unknown id, slug or topic."""

    error: str = Field(description="What was wrong, in one sentence.")
    status: int = Field(description="The HTTP status again.")


class PaperBrief(BaseModel):
    """A paper as listings show it."""

    id: str
    title: str
    display_title: str = Field(description="The title, or the start of the abstract when there is none.")
    authors: list[str]
    year: int | None
    date: str | None = Field(description="yyyy-mm-dd, or yyyy-mm when the day is unknown.")
    venue: str | None
    topic: str | None = Field(description="The effective topic's label (enrichment included).")
    area: str | None = Field(description="The effective topic's area.")
    keywords: list[str]
    code_url: str | None
    url: str = Field(description="The paper's page on this server.")


class PaperList(BaseModel):
    total: int = Field(description="Papers matching the filters.")
    limit: int
    offset: int
    papers: list[PaperBrief] = Field(description="Newest first.")


class PaperDetail(Paper):
    """Everything known about a paper: the effective view (source fields completed by enrichment)."""

    provenance: dict[str, str | list[dict[str, Any]]] = Field(
        default_factory=dict,
        description="For each field, where its value came from (a source, or a step); beside them the merge notes "
                    "`merges` and `kept_apart` (lists of {from, rule, matched}) and `split_from` (the id a wrongly "
                    "merged record was split from).")


class TopicCount(BaseModel):
    slug: str
    area: str | None
    label: str
    papers: int


class TopicList(BaseModel):
    topics: list[TopicCount]
    without_topic: int = Field(description="Papers without a topic.")
    papers: int = Field(description="All papers.")


class Coauthor(BaseModel):
    slug: str
    name: str
    shared: int = Field(description="Papers written together.")


class AuthorPapers(BaseModel):
    slug: str
    name: str
    papers: list[PaperBrief]
    coauthors: list[Coauthor]


class SearchHit(PaperBrief):
    score: float = Field(description="Fused ranking score; higher is better.")


class SearchResults(BaseModel):
    query: str
    total: int = Field(description="Matches in all (the results are one page of them).")
    suggestion: str | None = Field(description="A close spelling of the query when some of its words occur "
                                               "nowhere in the collection (\"did you mean\"), else null.")
    results: list[SearchHit]


class Rejection(BaseModel):
    line: int | None
    message: str


class ProfileFeedback(BaseModel):
    """What POST /api/profiles/NAME/feedback did (👍/👎 for a reader profile)."""

    profile: str
    paper: str = Field(description="The paper's id as it was sent.")
    label: str = Field(description='"up", "down" or "clear".')
    done: str = Field(description="What was done, in words.")


class IngestReport(BaseModel):
    """What POST /api/ingest did with the uploaded file."""

    file: str = Field(description="The uploaded file's name as records and provenance show it.")
    new: int
    merged: int
    unchanged: int
    rejected: int
    rejections: list[Rejection] = Field(description="The first 100 rejected records, with their lines.")
    errors: list[str] = Field(description="Problems with the file as a whole.")


BAD_REQUEST = {400: {"model": ApiError, "description": "A bad query parameter"}}
NOT_FOUND = {404: {"model": ApiError, "description": "Nothing with that id, slug or topic"}}
ERRORS = {**BAD_REQUEST, **NOT_FOUND}


# -- what the routes answer --------------------------------------------------------------------------
def paper_brief(p) -> dict:
    key = topic_key(p)
    return {"id": p.id, "title": p.title, "display_title": display_title(p), "authors": p.authors,
            "year": p.year, "date": p.date, "venue": p.venue, "topic": key[1] if key else None,
            "area": key[0] if key else None, "keywords": p.keywords, "code_url": p.code_url,
            "url": f"/papers/{quote(p.id, safe=':')}"}


def list_papers(catalog, *, limit: int, offset: int, topic: str | None = None, year: int | None = None) -> dict:
    """A page of papers, newest first, optionally of one topic and one year."""
    ids = catalog.newest
    if topic:
        info = catalog.topics.get(topic)
        if info is None:
            raise pages.NotFound(f"no topic {topic!r}")
        wanted = set(info.ids)
        ids = [pid for pid in ids if pid in wanted]
    if year is not None:
        briefs = catalog.briefs
        ids = [pid for pid in ids if briefs[pid].year == year]
    return {"total": len(ids), "limit": limit, "offset": offset,
            "papers": [paper_brief(p) for p in catalog.papers.many(ids[offset:offset + limit])]}


def paper_detail(catalog, store, pid: str) -> dict:
    """One paper by any of its ids, with the provenance of each field."""
    real = pid if pid in catalog.papers else catalog.canonical_id(pid)
    if real is None or real not in catalog.papers:
        raise pages.NotFound(f"no paper with id {pid[:200]!r}")
    paper = catalog.papers.get(real)
    if paper is None:
        raise pages.NotFound(f"no paper with id {pid[:200]!r}")
    data = paper.export_dict()
    data["provenance"] = store.provenance(real)
    return data


def list_topics(catalog) -> dict:
    return {"topics": [{"slug": t.slug, "area": t.area, "label": t.label, "papers": len(t.ids)}
                       for area in catalog.areas.values() for t in area],
            "without_topic": len(catalog.no_topic), "papers": len(catalog.papers)}


def author_papers(catalog, slug: str) -> dict:
    ctx = pages.author_context(catalog, slug)
    return {"slug": slug, "name": ctx["author"].name,
            "papers": [paper_brief(p) for _, group in ctx["groups"] for p in group],
            "coauthors": [{"slug": a.slug, "name": a.name, "shared": n} for a, n in ctx["coauthors"]]}


def search_results(catalog, query: str, found) -> dict:
    """A page of search hits (`found`, from search.query.search) as the API shows them."""
    shown = {p.id: p for p in catalog.papers.many([h.id for h in found.hits])}
    results = [{**paper_brief(shown[h.id]), "score": h.score} for h in found.hits if h.id in shown]
    return {"query": query, "total": found.total, "suggestion": found.suggestion, "results": results}


# -- the /docs page's view of the schemas ------------------------------------------------------------
def schema_type(schema: dict) -> str:
    """A property's type in a few characters: `string`, `integer | null`, `list of PaperBrief`."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(schema_type(s) for s in schema["anyOf"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {schema_type(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of {schema_type(schema['additionalProperties'])}"
    return kind


def docs_view(spec: dict) -> dict:
    """What /docs shows beside the paths: per operation its responses (status -> model names), and each
    schema of the OpenAPI document with its fields (name, type, required, description)."""
    responses = {}
    for path, ops in spec.get("paths", {}).items():
        for method, op in ops.items():
            shown = []
            for status, answer in op.get("responses", {}).items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
                names = schema_type(schema) if schema else ""
                shown.append({"status": status, "model": names if names not in ("", "any") else "",
                              "description": answer.get("description", "")})
            responses[(path, method)] = shown
    schemas = []
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", ()))
        fields = [{"name": field, "type": schema_type(prop), "required": field in required,
                   "description": prop.get("description", "")}
                  for field, prop in schema.get("properties", {}).items()]
        schemas.append({"name": name, "description": schema.get("description", ""), "fields": fields})
    return {"responses": responses, "schemas": schemas}


def without_validation_errors(spec: dict) -> dict:
    """The OpenAPI document less FastAPI's stock 422 answers: this app answers a bad parameter with 400
    and an ApiError (see app.py), so a 422 HTTPValidationError is never sent and is not documented."""
    for ops in spec.get("paths", {}).values():
        for op in ops.values():
            answer = op.get("responses", {}).get("422")
            schema = (answer or {}).get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("$ref", "").endswith("/HTTPValidationError"):
                del op["responses"]["422"]
    schemas = spec.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return spec
