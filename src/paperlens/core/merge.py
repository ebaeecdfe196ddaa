"""Merge two records of the same paper, keeping the richest value of each field and where it came from."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from paperlens.core.clean import normalize_key, short_hash
from paperlens.core.fields import SUMMARY_FIELDS
from paperlens.core.ids import arxiv_of_doi, content_hash_basis, normalize_arxiv_id, paper_id, record_origin
from paperlens.core.words import strip_accents

if TYPE_CHECKING:  # the pydantic models are imported where papers are built, not with this module
    from paperlens.core.models import Paper, SourceRef, Summary

SCALAR_FIELDS = ("org", "venue", "tldr", "code_url", "arxiv_id", "doi", "openreview_id")


def _summary() -> Summary:
    from paperlens.core.models import Summary

    return Summary()


def source_label(paper: Paper) -> str:
    ref = paper.sources[0] if paper.sources else None
    if ref is None:
        return "unknown"
    where = f"{ref.path}:{ref.line}" if ref.path and ref.line else (ref.path or "")
    return f"{ref.source} {where}".strip()


def merge_papers(old: Paper, new: Paper, provenance: dict[str, str]) -> Paper:
    """`old` updated with what `new` adds. `provenance` (field -> origin) is updated in place."""
    merged = old.model_copy(deep=True)
    origin = source_label(new)

    def take(field: str, value: Any) -> None:
        setattr(merged, field, value)
        provenance[field] = origin

    if len(new.title) > len(merged.title):
        take("title", new.title)
    if _richer_authors(new, merged):
        take("authors", list(new.authors))
        merged.authors_truncated = new.authors_truncated
    for field in SCALAR_FIELDS:
        if not getattr(merged, field) and getattr(new, field):
            take(field, getattr(new, field))
    if arxiv_of_doi(merged.doi) and new.doi and not arxiv_of_doi(new.doi):
        take("doi", new.doi)  # the version of record's DOI over arXiv's own (which names the arXiv id)
    if new.date and (not merged.date or len(new.date) > len(merged.date)):
        take("date", new.date)
    if new.year and not merged.year:
        take("year", new.year)
    if len(new.abstract) > len(merged.abstract) * 1.02 or not merged.abstract:
        take("abstract", new.abstract)
        merged.abstract_raw = new.abstract_raw
        provenance["abstract_raw"] = origin
        if new.language != merged.language:
            merged.language = new.language
    union = _union(merged.categories, new.categories)
    if union != merged.categories:
        take("categories", union)
    union = _union(merged.keywords, new.keywords)
    if union != merged.keywords:
        take("keywords", union)
    if new.topic and (not merged.topic or (new.topic.label and not merged.topic.label)):
        take("topic", new.topic)  # a topic with a label is richer than an area alone
    for lang, summary in new.summary.items():
        mine = merged.summary.get(lang) or _summary()
        changed = False
        for field in SUMMARY_FIELDS:
            if not getattr(mine, field) and getattr(summary, field):
                setattr(mine, field, getattr(summary, field))
                provenance[f"summary.{lang}.{field}"] = origin
                changed = True
        if changed:
            merged.summary[lang] = mine
    for key, value in new.extra.items():
        merged.extra.setdefault(key, value)
    known = {(s.source, _base(s.path), s.line, s.source_id) for s in merged.sources}
    for ref in new.sources:
        if (ref.source, _base(ref.path), ref.line, ref.source_id) not in known:
            merged.sources.append(ref)
    # A record that arrives with a stronger identifier re-keys a hash-identified paper.
    strongest = paper_id(merged.arxiv_id, merged.doi, merged.openreview_id, merged.title, merged.abstract)
    if merged.id.startswith("h:") and not strongest.startswith("h:"):
        merged.id = strongest
    return merged


_PROVENANCE_FIELDS = ("title", "authors", "org", "date", "year", "categories", "venue", "abstract", "abstract_raw",
                      "keywords", "tldr", "code_url", "topic", "arxiv_id", "doi", "openreview_id")
_EMPTY: tuple[Any, ...] = (None, "", [], {})


def initial_provenance(paper: Paper) -> dict[str, str]:
    origin = source_label(paper)
    values = paper.__dict__  # plain field values; getattr per field shows up on bulk ingests
    prov = {f: origin for f in _PROVENANCE_FIELDS if values[f] not in _EMPTY}
    for lang, summary in paper.summary.items():
        for field in SUMMARY_FIELDS:
            if getattr(summary, field):
                prov[f"summary.{lang}.{field}"] = origin
    return prov


def _richer_authors(new: Paper, old: Paper) -> bool:
    if not new.authors:
        return False
    if not old.authors:
        return True
    if old.authors_truncated and not new.authors_truncated and len(new.authors) >= len(old.authors):
        return True
    return len(new.authors) > len(old.authors) and not (new.authors_truncated and not old.authors_truncated)


def _union(a: list[str], b: list[str]) -> list[str]:
    seen = {x.lower() for x in a}
    out = list(a)
    for item in b:
        if item.lower() not in seen:
            seen.add(item.lower())
            out.append(item)
    return out


def _base(path: str | None) -> str | None:
    return path.replace("\\", "/").rsplit("/", 1)[-1] if path else None


# -- whether two records are one paper ----------------------------------------------------------
STRONG_KINDS = ("arxiv", "doi", "openreview")
_KIND_NAMES = {"arxiv": "arXiv id", "doi": "DOI", "openreview": "OpenReview id", "id": "id"}


SAME_RECORD = "same record read again"


@dataclass(frozen=True)
class Decision:
    """Whether an incoming record may merge into a stored paper, and why (shown in the provenance)."""

    merge: bool
    rule: str  # e.g. "same doi", "abstract", "title + year + author", or why not
    matched: tuple[str, ...] = ()  # the keys that found the stored paper, readable


def key_label(key: str) -> str:
    """A matched key as a person reads it: strong ids as they are, hashed keys by what they hash."""
    kind = key.split(":", 1)[0]
    if kind in STRONG_KINDS:
        return key
    return {"title": "title", "abs-head": "abstract head", "abs-tail": "abstract tail"}.get(kind, f"id {key}")


def decide(old: Paper, new: Paper, matched: list[str], *, same_record: bool = True) -> Decision:
    """May `new` (a record just read) merge into `old` (stored), found under the keys `matched`?

    - conflicting strong ids (two arXiv ids, two DOIs, two OpenReview ids) never may;
    - the same record read again (same source, file name, line and key) may, unless both name authors and
      none in common or their years are more than one apart (another file of that name);
    - a shared strong id may, unless title and authors both contradict it (a copied DOI);
    - an abstract match may, unless title and authors both contradict it (a boilerplate abstract);
    - a title match alone (or an id hashed from the title) needs years within one of each other (or
      one unknown) and at least half of the shorter author list in common; without authors on either side
      it needs an abstract match.

    `same_record=False` leaves out the first rule: whether a record stored in a paper of several still
    belongs there by today's rules (older versions merged on a title alone).
    """
    labels = tuple(key_label(k) for k in matched)
    conflict = strong_conflict(old, new)  # first: files of one name in two folders are not always one file
    if conflict:
        return Decision(False, conflict, labels)
    if same_record and _same_record(old.sources, new.sources) and not (
            distinct_records(old) == 1 and _other_paper(old, new)):  # of several: the writer checks again
        # a file of the same name elsewhere ("refs.bib") can hold another paper at that line under that key
        return Decision(True, SAME_RECORD, labels)
    shared = [k.split(":", 1)[0] for k in matched if k.split(":", 1)[0] in STRONG_KINDS]
    shared += [kind for kind, f in zip(STRONG_KINDS, ("arxiv_id", "doi", "openreview_id"), strict=True)
               if getattr(new, f) and getattr(new, f) == getattr(old, f)]
    if new.id in matched and new.id.split(":", 1)[0] not in STRONG_KINDS and given_id(new):
        shared.append("id")  # an id the source gave (our own export, a project's ids), not a hash of its text
    abstract = any(k.startswith(("abs-head:", "abs-tail:")) for k in matched)
    if shared or abstract:
        why = f"same {_KIND_NAMES[shared[0]]}" if shared else "same abstract"
        if _contradicted(old, new):
            return Decision(False, f"{why}, but neither title nor any author agrees", labels)
        return Decision(True, why, labels)
    old_year, new_year = _year(old), _year(new)
    if old_year and new_year and abs(old_year - new_year) > 1:
        return Decision(False, f"same title, but years {old_year} and {new_year}", labels)
    if not old.authors and not new.authors and old_year and old_year == new_year:
        thin = thin_id(new)
        if thin in matched and thin_id(old) == thin:
            # a record too thin for a title key ("Deep Blue", 1997) can have no abstract: the whole
            # normalised title, the year and the venue must agree
            return Decision(True, "same short title, year and venue", labels)
        if (not old.abstract and not new.abstract and normalize_key(old.title) == normalize_key(new.title)
                and normalize_key(old.venue or "") == normalize_key(new.venue or "")):
            # the same holds for a longer title with nothing else to compare (a proceedings volume)
            return Decision(True, "same whole title, year and venue, no authors or abstract", labels)
    if not old.authors or not new.authors:
        return Decision(False, "same title, but no authors to compare and no abstract match", labels)
    old_names, new_names = surnames(old.authors), surnames(new.authors)
    common = old_names & new_names
    if not common:
        return Decision(False, "same title, but no author in common", labels)
    if 2 * len(common) < min(len(old_names), len(new_names)):
        # "Deep learning" (LeCun, Bengio, Hinton 2015) is not "Deep Learning" (Goodfellow, Bengio, Courville
        # 2016): two versions of one paper share most of the shorter author list, not one name of it
        return Decision(False, f"same title, but only {len(common)} of {min(len(old_names), len(new_names))} "
                               "authors in common", labels)
    return Decision(True, "same title, year and an author", labels)


def strong_conflict(old: Paper, new: Paper) -> str | None:
    """Why the two cannot be one paper: they carry different arXiv ids, DOIs or OpenReview ids."""
    # normalised again: a paper stored by an older version may keep an old id's subclass (math.GT/0309136)
    a_arxiv = normalize_arxiv_id(old.arxiv_id) or old.arxiv_id or arxiv_of_doi(old.doi)
    b_arxiv = normalize_arxiv_id(new.arxiv_id) or new.arxiv_id or arxiv_of_doi(new.doi)
    if a_arxiv and b_arxiv and a_arxiv != b_arxiv:
        return f"different arXiv ids ({a_arxiv}, {b_arxiv})"
    # arXiv's own DOI names the arXiv id (compared above), not a version of record
    a_doi = old.doi if old.doi and not arxiv_of_doi(old.doi) else None
    b_doi = new.doi if new.doi and not arxiv_of_doi(new.doi) else None
    if a_doi and b_doi and a_doi != b_doi:
        return f"different DOIs ({a_doi}, {b_doi})"
    if old.openreview_id and new.openreview_id and old.openreview_id != new.openreview_id:
        return f"different OpenReview ids ({old.openreview_id}, {new.openreview_id})"
    return None


_NAME_SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}


def surnames(authors: list[str]) -> set[str]:
    """Normalised family names ('Jean César' -> 'cesar'; a CJK name as a whole)."""
    out = set()
    for name in authors:
        words = [normalize_key(w) for w in strip_accents(name).replace(".", " ").split()]
        words = [w for w in words if w and w not in _NAME_SUFFIXES]
        if words:
            out.add(words[-1])
    return out


def _other_paper(old: Paper, new: Paper) -> bool:
    """Both name authors and none in common, or their years are more than one apart."""
    old_year, new_year = _year(old), _year(new)
    if old_year and new_year and abs(old_year - new_year) > 1:
        return True
    return bool(old.authors and new.authors) and not surnames(old.authors) & surnames(new.authors)


def _contradicted(old: Paper, new: Paper) -> bool:
    """Title and authors both disagree: what a copied id or a boilerplate abstract looks like."""
    a, b = normalize_key(old.title), normalize_key(new.title)
    if not a or not b or not old.authors or not new.authors:
        return False
    if surnames(old.authors) & surnames(new.authors):
        return False
    return a not in b and b not in a and difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() < 0.5


def _year(paper: Paper) -> int | None:
    if paper.year:
        return paper.year
    if paper.date and paper.date[:4].isdigit():
        return int(paper.date[:4])
    return None


def ref_key(ref: SourceRef) -> tuple[str, str | None, int | None, str | None]:
    """What makes two source refs the same record (the file by name: a moved file is the same file)."""
    return (ref.source, _base(ref.path), ref.line, ref.source_id)


def distinct_records(paper: Paper) -> int:
    return len({ref_key(r) for r in paper.sources})


def _same_record(old: list[SourceRef], new: list[SourceRef]) -> bool:
    known = {ref_key(r) for r in old}
    return any(ref_key(r) in known for r in new)


def split_id(paper: Paper) -> str:
    """The id of a record stored apart from the paper that already holds its natural id (the same
    record read again gets the same one)."""
    ref = paper.sources[0] if paper.sources else None
    parts = [str(x or "") for x in ref_key(ref)] if ref else []
    return "h:" + short_hash("apart", paper.id, *parts)


def merge_note_lines(notes: dict[str, Any]) -> list[str]:
    """Store.merge_notes as text lines for `paperlens show`."""
    lines = []
    if notes.get("merges"):
        lines.append("merged from:")
        for note in notes["merges"]:
            lines.append(f"  {note.get('from')}: {note.get('rule')} (matched {', '.join(note.get('matched') or []) or '-'})")
    if notes.get("kept_apart"):
        lines.append("kept apart from:")
        for note in notes["kept_apart"]:
            lines.append(f"  {note.get('from')}: {note.get('rule')} (matched {', '.join(note.get('matched') or []) or '-'})")
    if notes.get("split_from"):
        lines.append(f"split from: {notes['split_from']} (a wrong merge of an older version, re-read)")
    suspect = notes.get("suspect")
    if suspect:
        lines.append(f"suspect merge: {suspect['reason']}; {suspect['reread']} of {len(suspect['sources'])} "
                     "records read again. Ingest these files again to split it:")
        for ref in suspect["sources"]:
            where = f"{ref.get('path')}:{ref.get('line')}" if ref.get("line") else ref.get("path")
            lines.append(f"  {ref.get('source')} {where}" + (f" ({ref['source_id']})" if ref.get("source_id") else ""))
    return lines


def thin_id(paper: Paper) -> str:
    """The id paper_id gives a record with no id, title key or abstract (its whole title, authors,
    year and venue)."""
    return "h:" + content_hash_basis(paper.title, paper.authors, _year(paper), paper.venue, "")


def merge_note_text(key: str, value: Any) -> str:
    """One provenance merge note (`merges`, `kept_apart`) as one line of text, for tables."""
    lines = [line.strip() for line in merge_note_lines({key: value})]
    return "; ".join(lines[1:] if len(lines) > 1 else lines) or str(value)


def given_id(paper: Paper) -> bool:
    """Whether the paper's id came with the record (our export's, a project's own) rather than being
    derived from its text by paper_id (then a match on it is only a title or abstract match)."""
    if not paper.id.startswith("h:"):
        return True
    ref = paper.sources[0] if paper.sources else None
    origin = record_origin(ref.source, ref.path, ref.line, ref.source_id) if ref else ""
    derived = paper_id(paper.arxiv_id, paper.doi, paper.openreview_id, paper.title, paper.abstract,
                       authors=paper.authors, year=_year(paper), venue=paper.venue, origin=origin)
    return derived != paper.id
