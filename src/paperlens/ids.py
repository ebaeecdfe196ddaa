"""Identifiers: arXiv ids, DOIs, OpenReview ids, arXiv category codes, and the stable paper id."""

from __future__ import annotations

import re

from .clean import abstract_keys, normalize_key, short_hash, title_key

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
    """'704.0001' (a spreadsheet ate the zero), 'arXiv:0704.0001v2', URLs -> '0704.0001'."""
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
    if match:
        return f"{match.group(1)}/{match.group(2)}"
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


def paper_id(arxiv_id: str | None, doi: str | None, openreview_id: str | None, title: str, abstract: str) -> str:
    """Stable id: arXiv id, then OpenReview id, then DOI, else a hash of the normalised title/abstract."""
    if arxiv_id:
        return f"arxiv:{arxiv_id}"
    if openreview_id:
        return f"openreview:{openreview_id}"
    if doi:
        return f"doi:{doi}"
    basis = title_key(title) or normalize_key(abstract)[:400]
    if not basis:
        # A title too short to match on (under 12 characters once normalised) and no abstract: hash the
        # title itself, or every such paper would share the hash of "" and be merged into one.
        basis = "short-title\x1f" + normalize_key(title)
    return "h:" + short_hash(basis)


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
