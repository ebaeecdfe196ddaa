"""Atom 1.0 feeds (RFC 4287), built with ElementTree so every value is escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from urllib.parse import quote

from paperlens.core.models import Paper
from paperlens.web.brief import display_title

ATOM = "http://www.w3.org/2005/Atom"


def _stamp(value: str | None, fallback: str) -> str:
    if value and len(value) == 10:
        return value + "T00:00:00Z"
    if value and len(value) == 7:
        return value + "-01T00:00:00Z"
    return fallback


def atom_feed(title: str, feed_url: str, page_url: str, papers: Iterable[Paper], updated: str,
              paper_url) -> bytes:
    """`updated` is an RFC 3339 time; `paper_url(pid)` gives an entry's absolute link."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = _clean(title)
    ET.SubElement(feed, f"{{{ATOM}}}id").text = feed_url
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = updated
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=feed_url, type="application/atom+xml")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=page_url, type="text/html")
    ET.SubElement(ET.SubElement(feed, f"{{{ATOM}}}author"), f"{{{ATOM}}}name").text = "paperlens"
    ET.SubElement(feed, f"{{{ATOM}}}generator").text = "paperlens"
    for paper in papers:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}title").text = _clean(display_title(paper))
        ET.SubElement(entry, f"{{{ATOM}}}id").text = "urn:paperlens:" + quote(paper.id, safe=":")
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _stamp(paper.date, updated)
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=paper_url(paper.id), type="text/html")
        for name in paper.authors:
            ET.SubElement(ET.SubElement(entry, f"{{{ATOM}}}author"), f"{{{ATOM}}}name").text = _clean(name)
        for category in paper.categories:
            ET.SubElement(entry, f"{{{ATOM}}}category", term=_clean(category))
        if paper.topic and paper.topic.label:
            ET.SubElement(entry, f"{{{ATOM}}}category", term=_clean(paper.topic.label))
        ET.SubElement(entry, f"{{{ATOM}}}summary", type="text").text = _clean(paper.tldr or paper.abstract)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8")


# What XML 1.0 cannot hold even escaped (C0 controls but tab and newlines, lone surrogates, U+FFFE and
# U+FFFF), with the other Unicode non-characters (U+FDD0..U+FDEF, the last two of every plane) and the
# C1 controls, which the XML spec discourages.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
                         + "".join(f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}"
                                   for plane in range(17)) + "]")


def _clean(text: str | None) -> str:
    """`text` with every character an XML 1.0 document cannot (or should not) hold dropped."""
    return _NOT_IN_XML.sub("", text or "")
