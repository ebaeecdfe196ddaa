"""paper-copilot lists (`papercopilot-json`): the conference files of github.com/papercopilot/paperlists
(`iclr/iclr2024.json`, `icml/icml2013.json`, `nips/nips2023.json`, ...). Each file is a list of
papers with `title`, `author` ("A;B;C"), `abstract`, `keywords` ("a;b"), `tldr`, `primary_area`,
`status` (Oral, Poster, Spotlight, Reject, Withdraw, ...), `track`, `site` (the OpenReview forum or
the proceedings page), `id`, `github`, `pdf`, and per-author columns (`aff`, `email`, ...) that are
not read.

The records name neither conference nor year: both come from the file's name as paperlists writes
it (`<conference><year>.json`, e.g. `iclr2013.json` -> "ICLR 2013"), else the `bibtex` field's year.
Rejected and withdrawn submissions get no venue; `status` and `track` are kept in `extra`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from paperlens.core.ids import openreview_id_from
from paperlens.core.models import Paper, Topic
from paperlens.sources.base import ReadContext, Rejected
from paperlens.sources.refcommon import (
    JsonItemsSource,
    abstract_of,
    find_arxiv_id,
    find_doi,
    head_start,
    split_list,
    text_of,
)

# Keys that paper-copilot lists have and general paper lists do not.
_COPILOT_KEYS = re.compile(r'"(?:site|track|status|gs_citation|gs_cited_by_link|pdf_size|authorids|aff_domain|'
                           r'author_num|or_profile|authors#_avg|aff_unique_norm)"\s*:')
_AUTHOR_STRING = re.compile(r'"author"\s*:\s*"')
_NOT_COPILOT = re.compile(r'"(?:paperId|itemType|content|date-parts)"\s*:')
_FILE_NAME = re.compile(r"(?:^|[^a-z0-9])([a-z0-9]*?[a-z])((?:19|20)\d\d)(?:\.json)?(?:\.gz|\.bz2|\.xz)?$")
_BIBTEX_YEAR = re.compile(r"\byear\s*=\s*[{\"]?\s*((?:19|20)\d\d)")
_NOT_ACCEPTED = re.compile(r"reject|withdraw|desk|active|submitted|under review|pending", re.I)
# Conference names as paperlists spells its folders -> as the conference writes itself.
CONFERENCE_NAMES = {
    "nips": "NeurIPS", "neurips": "NeurIPS", "colm": "COLM", "corl": "CoRL", "siggraphasia": "SIGGRAPH Asia",
    "acmmm": "ACM MM", "3dv": "3DV", "ai4x": "AI4X", "automl": "AutoML", "mlsys": "MLSys", "www": "WWW",
}


class PaperCopilotSource(JsonItemsSource):
    name = "papercopilot-json"
    description = "paper-copilot / paperlists conference JSON (a list of {title, author: 'A;B', status, track, site, ...})"
    expected = "paper object"

    @classmethod
    def sniff(cls, path: Path, head: str) -> bool:
        if head_start(head) != "[" or '"title"' not in head or _NOT_COPILOT.search(head):
            return False
        found = {m.group(0).split('"')[1] for m in _COPILOT_KEYS.finditer(head)}
        return len(found) + bool(_AUTHOR_STRING.search(head)) >= 3

    def paper(self, ctx: ReadContext, item: dict[str, Any], line: int) -> Paper | Rejected:
        conference, year = conference_of(ctx.path)
        source_id = text_of(item.get("id")) or None
        return self.converted(ctx, line, f"paper {source_id or '(no id)'}",
                              lambda: paper_from_copilot(item, conference, year), source_id)


def conference_of(path: str) -> tuple[str | None, int | None]:
    """'…/iclr2013.json' -> ('ICLR', 2013); a name without <conference><year> -> (None, None)."""
    match = _FILE_NAME.search(Path(path).name.lower())
    if not match:
        return None, None
    short = match.group(1)
    return CONFERENCE_NAMES.get(short, short.upper()), int(match.group(2))


def paper_from_copilot(item: dict[str, Any], conference: str | None, file_year: int | None) -> Paper:
    """One paperlists record -> Paper (not finished). ValueError when it holds no paper."""
    title = text_of(item.get("title"))
    abstract = abstract_of(item.get("abstract"))
    if not title and not abstract:
        raise ValueError("has neither title nor abstract")
    site = text_of(item.get("site"))
    status = text_of(item.get("status"))
    bibtex_year = _BIBTEX_YEAR.search(text_of(item.get("bibtex")))
    year = file_year or (int(bibtex_year.group(1)) if bibtex_year else None)
    venue = f"{conference} {year}" if conference and year and not _NOT_ACCEPTED.search(status) else None
    openreview = openreview_id_from(site) if "openreview.net" in site else None
    github = text_of(item.get("github"))
    area = text_of(item.get("primary_area"))
    extra: dict[str, Any] = {}
    for key in ("status", "track"):
        if text_of(item.get(key)):
            extra[key] = text_of(item.get(key))
    for key, name in (("site", "url"), ("pdf", "pdf_url"), ("project", "project_url")):
        value = text_of(item.get(key))
        if value.startswith(("http://", "https://")) and not (key == "site" and openreview):
            extra[name] = value
    return Paper(
        title=title, authors=split_list(item.get("author"), ";"), abstract_raw=abstract,
        keywords=split_list(item.get("keywords"), ";"), tldr=text_of(item.get("tldr")) or None,
        venue=venue, year=year, openreview_id=openreview,
        doi=find_doi(text_of(item.get("doi"))), arxiv_id=find_arxiv_id(text_of(item.get("arxiv")), site),
        code_url=github if github.startswith(("http://", "https://")) else None,
        topic=Topic(area=area) if area else None, extra=extra,
    )
