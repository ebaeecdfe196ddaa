"""Identifiers: arXiv ids, DOIs, OpenReview ids, arXiv category codes, and the stable paper id."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from paperlens.core.clean import abstract_keys, normalize_key, short_hash, title_key

if TYPE_CHECKING:  # the pydantic models are imported where papers are built, not with this module
    from paperlens.core.models import Paper

_NEW_ARXIV = re.compile(r"^(\d{4})\.(\d{4,5})(v\d+)?$")
_OLD_ARXIV = re.compile(r"^([a-z\-]+(?:\.[A-Z]{2})?)/(\d{7})(v\d+)?$", re.I)
_ARXIV_IN_TEXT = re.compile(r"arxiv\.org/(?:abs|pdf)/([\w.\-/]+?)(?:\.pdf)?(?:v\d+)?(?=$|[\s?#])", re.I)

# Bare codes as feeds print them (the 001 seed) -> arXiv's archive.category codes.
CATEGORY_CODES = {
    "AI": "cs.AI", "AR": "cs.AR", "CC": "cs.CC", "CE": "cs.CE", "CG": "cs.CG", "CL": "cs.CL", "CR": "cs.CR",
    "CV": "cs.CV", "CY": "cs.CY", "DB": "cs.DB", "DC": "cs.DC", "DL": "cs.DL", "DM": "cs.DM", "DS": "cs.DS",
    "ET": "cs.ET", "FL": "cs.FL", "GL": "cs.GL", "GR": "cs.GR", "GT": "cs.GT", "HC": "cs.HC", "IR": "cs.IR",
    "IT": "cs.IT", "LG": "cs.LG", "LO": "cs.LO", "MA": "cs.MA", "MM": "cs.MM", "MS": "cs.MS", "NA": "cs.NA",
    "NE": "cs.NE", "NI": "cs.NI", "OH": "cs.OH", "OS": "cs.OS", "PF": "cs.PF", "PL": "cs.PL", "RO": "cs.RO",
    "SC": "cs.SC", "SD": "cs.SD", "SE": "cs.SE", "SI": "cs.SI", "SY": "cs.SY", "ML": "stat.ML",
    "ME": "stat.ME", "AP": "stat.AP", "CO": "stat.CO", "TH": "stat.TH", "AS": "eess.AS", "IV": "eess.IV",
    "SP": "eess.SP", "OC": "math.OC", "ST": "stat.TH", "QM": "q-bio.QM", "NC": "q-bio.NC",
}


def normalize_category(code: str) -> str:
    code = code.strip()
    if not code:
        return code
    if "." in code or "-" in code or code.islower():
        return code
    return CATEGORY_CODES.get(code.upper(), code)


def normalize_arxiv_id(raw: str | None) -> str | None:
    """'704.0001' (a spreadsheet ate the zero), 'arXiv:0704.0001v2', URLs -> '0704.0001'; old-style ids
    without their subject class, archive in lower case: 'math.GT/0309136v1' -> 'math/0309136' (as arXiv
    names it). Databases of versions before keep the subclass in their ids; migration 10 gives them the key."""
    if not raw:
        return None
    value = str(raw).strip()
    match = _NEW_ARXIV.match(value)
    if match:  # the common case, already bare
        return f"{match.group(1)}.{match.group(2)}"
    found = _ARXIV_IN_TEXT.search(value)
    if found:
        value = found.group(1)
    value = re.sub(r"^arxiv:", "", value, flags=re.I)
    match = _NEW_ARXIV.match(value)
    if match:
        return f"{match.group(1)}.{match.group(2)}"
    short = re.match(r"^(\d{3})\.(\d{4,5})(v\d+)?$", value)
    if short:  # numeric ids read as floats lose their leading zero
        return f"0{short.group(1)}.{short.group(2)}"
    match = _OLD_ARXIV.match(value)
    if match:  # arXiv's id is archive/number: a subject class ('math.GT/0309136') is not part of it
        return f"{match.group(1).split('.')[0].lower()}/{match.group(2)}"
    return None


def normalize_doi(raw: str | None) -> str | None:
    if not raw:
        return None
    value = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", str(raw).strip(), flags=re.I)
    value = value.split()[0] if value.split() else ""
    return value.lower() if value.startswith("10.") else None


def openreview_id_from(raw: str | None) -> str | None:
    if not raw:
        return None
    match = re.search(r"[?&]id=([\w\-]+)", raw)
    if match:
        return match.group(1)
    return raw if re.fullmatch(r"[\w\-]{8,}", raw) else None


EMPTY_HASH_ID = "h:" + short_hash("")  # what old versions gave every paper with no id, title key or abstract


def paper_id(arxiv_id: str | None, doi: str | None, openreview_id: str | None, title: str, abstract: str,
             *, authors: list[str] | tuple[str, ...] = (), year: int | None = None, venue: str | None = None,
             origin: str | tuple[str, str | None, int | None, str | None] = "") -> str:
    """Stable id: arXiv id, then OpenReview id, then DOI, else a hash of the normalised title/abstract.

    A paper with none of these (no id, a title key shorter than 12 letters, no abstract: "Deep Blue",
    most Chinese titles) is hashed from everything it has: the whole normalised title, authors, year,
    venue, and last the record's origin (source, file, line, key). Never from empty content, so two
    different papers never share an id by accident."""
    if arxiv_id:
        return f"arxiv:{arxiv_id}"
    if openreview_id:
        return f"openreview:{openreview_id}"
    if doi:
        return f"doi:{doi}"
    basis = title_key(title) or normalize_key(abstract)[:400]
    if basis:
        return "h:" + short_hash(basis)
    if isinstance(origin, tuple):  # (source, path, line, key): made into text only when needed
        origin = record_origin(*origin)
    return "h:" + content_hash_basis(title, authors, year, venue, origin)


def record_origin(source: str, path: str | None, line: int | None, source_id: str | None) -> str:
    """Where a record came from, as paper_id hashes it when a record has nothing else (the file by name)."""
    base = path.replace("\\", "/").rsplit("/", 1)[-1] if path else ""
    return f"{source}\x1f{base}\x1f{line or ''}\x1f{source_id or ''}"


def content_hash_basis(title: str, authors: Iterable[str], year: int | None, venue: str | None, origin: str) -> str:
    """The hash of a record too thin for a title or abstract key (see paper_id)."""
    parts = ["t:" + normalize_key(title), "a:" + ";".join(normalize_key(a) for a in authors),
             "y:" + (str(year) if year else ""), "v:" + normalize_key(venue or "")]
    if not any(part.partition(":")[2] for part in parts[:2]):  # no title, no author: the record's origin
        parts.append("o:" + origin)
    return short_hash("thin", *parts)


def match_keys(arxiv_id: str | None, doi: str | None, openreview_id: str | None, title: str,
               abstract: str) -> list[str]:
    """Every key under which another record of the same paper could be found."""
    keys = []
    if arxiv_id:
        keys.append(f"arxiv:{arxiv_id}")
    if doi:
        keys.append(f"doi:{doi}")
    if openreview_id:
        keys.append(f"openreview:{openreview_id}")
    tkey = title_key(title)
    if tkey:
        keys.append("title:" + short_hash(tkey, length=24))
    keys.extend(abstract_keys(abstract))
    return keys


_OPENREVIEW_URL = re.compile(r"openreview\.net/(?:forum|pdf|attachment)\?(?:[^#\s]*&)?id=([\w\-]+)", re.I)
_DOI_IN_TEXT = re.compile(r"^(?:https?://)?(?:dx\.)?doi\.org/|^doi:\s*|^https?://doi\.acm\.org/", re.I)
_PREFIX = re.compile(r"^(arxiv|doi|openreview|h)\s*:\s*(.+)$", re.I)


def parse_any_id(text: str) -> list[str]:
    """The keys a paper could be stored under for an id as a person writes it, most likely first:
    'arXiv:0704.0001', '0704.0001v2', 'https://arxiv.org/abs/0704.0001v2', 'hep-th/9901001', an
    OpenReview URL, a DOI in any case ('doi:10.…', 'https://doi.org/10.…', 'http://dx.doi.org/…').
    The text itself comes first, as it is (ids of other kinds, aliases)."""
    raw = (text or "").strip()
    if not raw:
        return []
    keys = [raw]
    prefix = _PREFIX.match(raw)
    kind, value = (prefix.group(1).lower(), prefix.group(2).strip()) if prefix else ("", raw)
    if kind == "h":
        keys.append("h:" + value.lower())
    if kind in ("", "arxiv"):
        arxiv = normalize_arxiv_id(value)
        if arxiv is None and "arxiv.org/" in value.lower():
            arxiv = normalize_arxiv_id(value.split("?")[0].split("#")[0].rstrip("/"))
        if arxiv:
            keys.append(f"arxiv:{arxiv}")
    if kind in ("", "doi"):
        doi = normalize_doi(_DOI_IN_TEXT.sub("", value))
        if doi:
            keys.append(f"doi:{doi}")
            arxiv = arxiv_of_doi(doi)  # the DOI arXiv gives every paper
            if arxiv:
                keys.append(f"arxiv:{arxiv}")
    if kind in ("", "openreview"):
        found = _OPENREVIEW_URL.search(value)
        if found:
            keys.append(f"openreview:{found.group(1)}")
        elif kind == "openreview":
            keys.append(f"openreview:{value}")
    return list(dict.fromkeys(keys))


def arxiv_of_doi(doi: str | None) -> str | None:
    """The arXiv id inside the DOI arXiv registers for every paper (10.48550/arXiv.2406.11111)."""
    if doi and doi.startswith("10.48550/arxiv."):
        return normalize_arxiv_id(doi[len("10.48550/arxiv."):])
    return None


def record_keys(paper: Paper) -> list[str]:
    """Every key a stored paper is matched by: its id first, then its arXiv id, DOI, OpenReview id
    and title/abstract keys (see `match_keys`)."""
    keys = match_keys(paper.arxiv_id, paper.doi, paper.openreview_id, paper.title, paper.abstract)
    if paper.id and paper.id not in keys:
        keys.insert(0, paper.id)
    return keys
