"""Reader profiles: made from a library file (any format `paperlens ingest` reads, or a list of ids), kept
in the store, ranked against (see rank.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from paperlens.core.ids import parse_any_id
from paperlens.core.models import Paper
from paperlens.ingest.pipeline import IngestReport, ingest_paths
from paperlens.recommend.rank import Doc, Ranked, Weights, rank
from paperlens.recommend.relevance import MAX_PROMPT_CHARS, JudgeReport, RelevanceJudge
from paperlens.store import Store

# The settings a profile keeps (lists of strings, or one string).
LIST_SETTINGS = ("authors", "include", "exclude", "categories", "emails")
TEXT_SETTINGS = ("prompt",)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_CATEGORY = re.compile(r"^[A-Za-z-]+(?:\.[A-Za-z-]+)?$")
MAX_BACKGROUND = 20000
_KNOWN_ID = re.compile(r"^(?:h|arxiv|doi|openreview):\S+$", re.I)


class ProfileError(ValueError):
    """A profile that cannot be made or found; the message is one sentence for the user."""


@dataclass
class LibraryReport:
    ingest: IngestReport = field(default_factory=IngestReport)
    ids: list[str] = field(default_factory=list)  # the library papers, stored ids
    unknown: list[str] = field(default_factory=list)  # 'FILE:LINE: id' of ids in an id list not in the store


def valid_name(name: str) -> bool:
    """Whether `name` may be a profile's: it is a mail Subject's word and a page path of the static site.
    fullmatch: `$` alone lets a trailing newline through; '..' would leave DIR/profiles/ of the site."""
    return bool(_NAME.fullmatch(name or "")) and ".." not in name


def check_name(name: str) -> str:
    if not valid_name(name):
        raise ProfileError(f"profile name {name!r}: use letters, digits, '.', '_' or '-' (at most 64, no '..')")
    return name


def clean_settings(settings: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in settings.items():
        if key in LIST_SETTINGS:
            items = [value] if isinstance(value, str) else list(value or ())
            items = list(dict.fromkeys(s.strip() for s in items if s and s.strip()))
            if key == "categories":
                bad = [c for c in items if not _CATEGORY.match(c)]
                if bad:
                    raise ProfileError(f"not an arXiv category: {bad[0]!r} (e.g. cs.CL, math.PR, hep-th)")
            if key == "emails":
                bad = [e for e in items if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", e)]
                if bad:
                    raise ProfileError(f"not an email address: {bad[0]!r}")
            out[key] = items
        elif key in TEXT_SETTINGS:
            out[key] = (value or "").strip() or None
            if key == "prompt" and out[key] and len(out[key]) > MAX_PROMPT_CHARS:
                raise ProfileError(f"the relevance prompt has {len(out[key])} characters; at most "
                                   f"{MAX_PROMPT_CHARS} are sent to the LLM, shorten it")
        else:
            raise ProfileError(f"unknown profile setting {key!r}")
    return out


def is_id_list(path: Path) -> bool:
    """A text file whose every non-blank line (bar '#' comments) is one paper id (arXiv, DOI, OpenReview)."""
    if path.suffix.lower() not in ("", ".txt", ".ids", ".list"):
        return False
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    wanted = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    return bool(wanted) and all(" " not in line and (len(parse_any_id(line)) > 1 or _KNOWN_ID.match(line))
                                for line in wanted)


def read_id_list(store: Store, path: Path, report: LibraryReport) -> None:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        pid = store.resolve_id(text)
        if pid is None:
            report.unknown.append(f"{path}:{number}: {text}")
        else:
            report.ids.append(pid)


def ingest_library(store: Store, paths: Sequence[Path], *, on_record: Callable[[int], None] | None = None,
                   on_rejected=None) -> LibraryReport:
    """Ingest the library files (merged with what the store knows, as `paperlens ingest` does) and collect
    the stored ids of their papers; a list of ids names papers already in the store."""
    report = LibraryReport()
    files = []
    for path in paths:
        path = Path(path)
        if path.is_file() and is_id_list(path):
            read_id_list(store, path, report)
        else:
            files.append(path)
    if files:
        report.ingest = ingest_paths(store, files, on_record=on_record, on_rejected=on_rejected,
                                     on_batch=lambda result: report.ids.extend(result.ids))
    report.ids = list(dict.fromkeys(store.resolve_id(pid) or pid for pid in report.ids))
    return report


def add_profile(store: Store, name: str, paths: Sequence[Path], settings: dict[str, Any], *,
                replace: bool = False, **kwargs) -> LibraryReport:
    """Make (or with `replace`, remake; else extend) a profile from library files and settings."""
    check_name(name)
    settings = clean_settings(settings)
    existing = store.profile_get(name)
    if existing is not None and replace:
        store.profile_remove(name)
        existing = None
    report = ingest_library(store, paths, **kwargs)
    if not report.ids and (existing is None or not store.profile_papers(name)):
        problems = [problem for _, problem in report.ingest.file_errors] + report.unknown[:5]
        detail = ("; ".join(problems)) if problems else "the files hold no papers"
        raise ProfileError(f"profile {name!r} has no library papers: {detail}")
    merged = dict(existing["settings"]) if existing else {}
    for key, value in settings.items():
        if key in LIST_SETTINGS and key in merged:
            merged[key] = list(dict.fromkeys([*merged[key], *value]))
        else:
            merged[key] = value
    store.profile_save(name, merged)
    store.profile_label(name, report.ids, 1, "library")
    return report


def update_settings(store: Store, name: str, settings: dict[str, Any], *, remove: bool = False) -> dict[str, Any]:
    profile = require(store, name)
    merged = dict(profile["settings"])
    for key, value in clean_settings(settings).items():
        if key in LIST_SETTINGS:
            old = merged.get(key, [])
            merged[key] = [v for v in old if v not in value] if remove else list(dict.fromkeys([*old, *value]))
        else:
            merged[key] = None if remove else value
    store.profile_save(name, merged)
    return merged


def require(store: Store, name: str) -> dict[str, Any]:
    profile = store.profile_get(name)
    if profile is None:
        known = store.profile_names()
        hint = f"; known: {', '.join(known)}" if known else "; make one with `paperlens profile add NAME FILE`"
        raise ProfileError(f"no profile {name!r}{hint}")
    return profile


def describe(store: Store, name: str, sample: int = 10) -> dict[str, Any]:
    profile = require(store, name)
    labels = store.profile_papers(name)
    library = [pid for pid, label in labels.items() if label > 0]
    titles = {p.id: p.title for p in store.get_many(library[:sample])}
    return {"name": name, "settings": profile["settings"], "created_at": profile["created_at"],
            "updated_at": profile["updated_at"], "counts": store.profile_counts(name),
            "library_sample": [{"id": pid, "title": titles.get(pid, "")} for pid in library[:sample]],
            "digests": store.profile_digests(name, limit=10)}


def paper_doc(paper: Paper) -> Doc:
    keywords = ", ".join(paper.keywords)
    text = ". ".join(part for part in (paper.title, paper.abstract, keywords) if part)
    return Doc(id=paper.id, title=paper.title, text=text, authors=list(paper.authors), date=paper.date,
               categories=list(paper.categories))


def _embeddings(store: Store, papers: list[Paper]) -> np.ndarray | None:
    """The stored vectors of the default embedder; papers without one are embedded now (not stored)."""
    try:
        from paperlens.enrich.models.embed import get_embedder, paper_text

        embedder = get_embedder()
    except Exception:  # noqa: BLE001 - no embedder installed: tf-idf alone still ranks
        return None
    ids, matrix = store.load_embeddings(embedder.name, [p.id for p in papers])
    have = {pid: i for i, pid in enumerate(ids)}
    out = np.zeros((len(papers), embedder.dim), dtype=np.float32)
    missing = []
    for row, paper in enumerate(papers):
        if paper.id in have and matrix.shape[1] == embedder.dim:
            out[row] = matrix[have[paper.id]]
        else:
            missing.append(row)
    if missing:
        vectors = embedder.encode([paper_text(papers[r].title, papers[r].abstract) for r in missing])
        out[missing] = vectors
    return out


def recommend(store: Store, name: str, *, since: str | None = None, candidates: Iterable[str] | None = None,
              limit: int = 20, today: date | None = None, exclude_ids: Iterable[str] = (),
              weights: Weights | None = None) -> list[Ranked]:
    """The profile's best `limit` papers among `candidates` (ids; default: every paper dated on/after
    `since`) that are not in its library, 👍/👎 or `exclude_ids`."""
    profile = require(store, name)
    settings = profile["settings"]
    labels = store.profile_papers(name)
    positives = [pid for pid, label in labels.items() if label > 0]
    negatives = [pid for pid, label in labels.items() if label < 0]
    if not positives:
        raise ProfileError(f"profile {name!r} has no library papers to rank against")
    skip = set(labels) | set(exclude_ids)
    wanted = candidates if candidates is not None else store.paper_ids_since(since)
    wanted = [pid for pid in dict.fromkeys(wanted) if pid not in skip]
    if not wanted:
        return []
    chosen = set(wanted) | set(positives) | set(negatives)
    # Background: the rest of the store (every paper, or an even sample of a very big one).
    rest = [pid for pid in store.paper_ids_since() if pid not in chosen]
    if len(rest) > MAX_BACKGROUND:
        step = len(rest) / MAX_BACKGROUND
        rest = [rest[int(i * step)] for i in range(MAX_BACKGROUND)]
    order = positives + negatives + wanted + rest
    papers = {p.id: p for p in store.get_many(order)}
    order = [pid for pid in order if pid in papers]
    index = {pid: i for i, pid in enumerate(order)}
    plist = [papers[pid] for pid in order]
    docs = [paper_doc(p) for p in plist]
    return rank(docs, [index[p] for p in positives if p in index], [index[p] for p in wanted if p in index],
                negative=[index[p] for p in negatives if p in index], embeddings=_embeddings(store, plist),
                include=settings.get("include", []), exclude=settings.get("exclude", []),
                authors=settings.get("authors", []), today=today or date.today(), limit=limit, weights=weights)


def recommend_judged(store, name: str, judge: RelevanceJudge | None, *, limit: int = 20,
                     **options) -> tuple[list[Ranked], JudgeReport]:
    """`recommend` with the profile's relevance prompt judged by `judge`: without a judge, a
    prompt or a usable endpoint the ranking is recommend's own and the report says why (`skipped`)."""
    prompt = (require(store, name)["settings"].get("prompt") or "").strip()
    report = JudgeReport()
    if judge is None:
        report.skipped = "LLM relevance not asked for"
    elif not prompt:
        report.skipped = (f"profile {name!r} has no relevance prompt (paperlens profile set {name} --prompt TEXT): "
                          "ranked by the model alone")
    elif judge.unavailable:
        report.skipped = judge.unavailable
    if report.skipped:
        return recommend(store, name, limit=limit, **options), report
    ranked = recommend(store, name, limit=max(limit, judge.pool(limit)), **options)
    return judge.rerank(store, prompt, ranked, limit)


def mark(store: Store, name: str, paper_id: str, label: int, *, clear: bool = False) -> str:
    """👍 (label 1) or 👎 (-1) a paper for a profile, or `clear` the mark; returns what was done."""
    require(store, name)
    pid = store.resolve_id(paper_id)
    if pid is None:
        raise ProfileError(f"no paper with id {paper_id!r}")
    if clear:
        store.profile_unlabel(name, pid)
        return f"{pid}: mark cleared for {name}"
    store.profile_label(name, [pid], 1 if label > 0 else -1, "feedback")
    return f"{pid}: {'liked' if label > 0 else 'disliked'} for {name}"
