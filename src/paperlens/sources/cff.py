"""CITATION.cff (`citation-cff`, Citation File Format 1.x, YAML): the work to cite is the
`preferred-citation` block when there is one (usually the paper), else the software the file
describes. Read: `title`, `authors` (given-names, name-particle, family-names, name-suffix; or an
entity's `name`), `date-published` / `year` + `month` (software: `date-released`), `journal` /
`conference.name` / `collection-title` as venue, `abstract`, `keywords`, `doi` (or a DOI in
`identifiers`), an arXiv id from `identifiers`, `url` or `repository`. The file is one record; it keeps
the line of its `preferred-citation:` key (else line 1). YAML is read with libyaml's safe loader
(`yaml.CSafeLoader`: linear, and it refuses nesting past 1,000 levels); where PyYAML was built without
libyaml, the pure-Python safe loader runs after a cheap nesting check, since its scanner is quadratic in
the flow depth (3,000 `[` took seconds).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from paperlens.core.models import Paper
from paperlens.sources.base import BAD_BYTES, ReadContext, Rejected, Source, has_bad_bytes, open_text
from paperlens.sources.refcommon import (
    DateParts,
    abstract_of,
    date_parts,
    find_arxiv_id,
    find_doi,
    finish_or_reject,
    parse_date,
    split_list,
)

_VERSION_KEY = re.compile(r"^cff-version\s*:", re.M)
_PREFERRED = re.compile(r"^preferred-citation\s*:", re.M)
MAX_CFF_CHARS = 4 * 1024 * 1024
MAX_CFF_DEPTH = 200  # only checked before the pure-Python loader; libyaml has its own limit
_OPENERS = re.compile(r"[\[{]")


def _too_deep(text: str) -> bool:
    """A cheap upper bound on flow nesting ([ and { not yet closed), quotes ignored."""
    if len(_OPENERS.findall(text)) <= MAX_CFF_DEPTH:
        return False
    depth = 0
    for char in text:
        if char in "[{":
            depth += 1
            if depth > MAX_CFF_DEPTH:
                return True
        elif char in "]}":
            depth = max(depth - 1, 0)
    return False


def _load_yaml(text: str) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None:
        if _too_deep(text):
            raise RecursionError(f"nesting deeper than {MAX_CFF_DEPTH} levels")
        loader = yaml.SafeLoader
    return yaml.load(text, Loader=loader)  # both loaders are safe loaders


def _error_line(text: str, mark: Any) -> int:
    """Our line (newlines only) of a YAML error mark. The mark's own line counts U+2028, U+2029, NEL and a
    lone CR as breaks too, and libyaml puts an error at the end of the stream on the line after the last:
    the mark's character offset is used instead, and never past the last line with content."""
    index = getattr(mark, "index", None)
    if not isinstance(index, int) or index < 0:
        return 1
    return min(text.count("\n", 0, index) + 1, text.rstrip().count("\n") + 1)


class CffSource(Source):
    name = "citation-cff"
    description = "CITATION.cff (Citation File Format YAML): its preferred-citation, else the software itself"

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        body = head.lstrip("\ufeff")
        return not body.lstrip().startswith(("{", "[", "<", "@")) and bool(_VERSION_KEY.search(body))

    def read(self, ctx: ReadContext) -> Iterator[Paper | Rejected]:
        import yaml

        with open_text(ctx.path) as handle:
            text = handle.read(MAX_CFF_CHARS + 1)
        if len(text) > MAX_CFF_CHARS:
            yield Rejected(ctx.path, 1, f"CITATION.cff is larger than {MAX_CFF_CHARS // 1024 // 1024} MiB; not read")
            return
        if has_bad_bytes(text):
            yield Rejected(ctx.path, 1, BAD_BYTES)
            return
        try:
            data = _load_yaml(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            yield Rejected(ctx.path, _error_line(text, mark), f"broken YAML ({getattr(exc, 'problem', exc)})")
            return
        except (ValueError, RecursionError) as exc:  # e.g. a date such as 2024-13-45; nesting too deep
            yield Rejected(ctx.path, 1, f"broken YAML ({type(exc).__name__}: {exc})")
            return
        if not isinstance(data, dict):
            yield Rejected(ctx.path, 1, "CITATION.cff is not a YAML mapping")
            return
        preferred = data.get("preferred-citation")
        work, line = data, 1
        if isinstance(preferred, dict):
            match = _PREFERRED.search(text)
            work, line = preferred, text.count("\n", 0, match.start()) + 1 if match else 1
        try:
            paper = paper_from_cff(work, software=work is data)
        except (ValueError, TypeError) as exc:
            yield Rejected(ctx.path, line, f"CITATION.cff: {exc}")
            return
        yield finish_or_reject(paper, ctx, self.name, line, None, "CITATION.cff")


def _person(person: Any) -> str:
    if not isinstance(person, dict):
        return ""
    parts = [_str(person.get(k)) for k in ("given-names", "name-particle", "family-names", "name-suffix")]
    text = " ".join(p for p in parts if p)
    return text or _str(person.get("name")) or _str(person.get("alias"))


def _str(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    return " ".join(value.split()) if isinstance(value, str) else ""


def _when(value: Any) -> DateParts:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return date_parts(value.year, value.month, value.day)
    return parse_date(value)


def paper_from_cff(work: dict[str, Any], software: bool) -> Paper:
    """The cited work (a CFF root or its preferred-citation) -> Paper (not finished)."""
    title = _str(work.get("title"))
    abstract = abstract_of(_str(work.get("abstract")))
    if not title and not abstract:
        raise ValueError("has neither title nor abstract")
    people = work.get("authors")
    authors = [_person(p) for p in people] if isinstance(people, list) else []
    when = DateParts()
    for key in ("date-published", "date-released") if not software else ("date-released", "date-published"):
        when = _when(work.get(key))
        if when.year:
            break
    if not when.year and work.get("year") is not None:
        when = date_parts(work.get("year"), work.get("month"))
    conference = work.get("conference")
    venue = (_str(work.get("journal")) or (_str(conference.get("name")) if isinstance(conference, dict) else "")
             or _str(work.get("collection-title")))
    identifiers = work.get("identifiers") if isinstance(work.get("identifiers"), list) else []
    values = [_str(i.get("value")) for i in identifiers if isinstance(i, dict)]
    dois = [_str(i.get("value")) for i in identifiers if isinstance(i, dict) and i.get("type") == "doi"]
    urls = [_str(work.get(k)) for k in ("url", "repository", "repository-artifact")]
    doi = find_doi(_str(work.get("doi")), *dois)
    arxiv_id = find_arxiv_id(*values, *urls, _str(work.get("doi")))
    extra: dict[str, Any] = {"cff_type": _str(work.get("type")) or ("software" if software else "")}
    for key in ("url", "repository-code", "version", "license"):
        if _str(work.get(key)):
            extra[key.replace("-", "_")] = _str(work.get(key))
    code = _str(work.get("repository-code"))
    return Paper(
        title=title, authors=[a for a in authors if a], abstract_raw=abstract,
        keywords=split_list([_str(k) for k in work.get("keywords") or [] if _str(k)]) if isinstance(
            work.get("keywords"), list) else [],
        venue=venue or None, year=when.year, date=when.iso, doi=doi, arxiv_id=arxiv_id,
        code_url=code if code.startswith("http") else None, extra={k: v for k, v in extra.items() if v},
    )

