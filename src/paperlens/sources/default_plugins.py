"""paperlens' own input formats, registered like any plugin's (see docs/plugins.md).

The order is the order format detection tries them: specific layouts first; the generic table/JSON reader
(`fallback = True`) is tried after every other source, a plugin's included."""

from __future__ import annotations

from paperlens.core.plugins import hookimpl


@hookimpl
def register_sources():
    from paperlens.sources import (
        arxiv_atom,
        arxiv_bulk,
        arxiv_rss,
        bibtex,
        cff,
        crossref,
        csl_json,
        daily_arxiv,
        endnote,
        endnote_xml,
        generic,
        isi,
        jsonl,
        mathscinet,
        mods,
        openreview,
        papercopilot,
        ris,
        seeds,
        semantic_scholar,
        zotero_bbt,
        zotero_rdf,
    )

    return [
        seeds.DigestSource, seeds.FeedSource, seeds.AbstractListSource, seeds.AuthorPageSource,
        arxiv_bulk.ArxivJsonlSource, arxiv_bulk.ArxivCsvSource, arxiv_rss.ArxivRssSource, arxiv_atom.ArxivAtomSource,
        openreview.OpenReviewJsonSource, openreview.IclrCsvSource, bibtex.BibtexSource, jsonl.PaperlensJsonlSource,
        daily_arxiv.DailyArxivSource, ris.RisSource, csl_json.CslJsonSource, zotero_bbt.ZoteroBbtJsonSource,
        semantic_scholar.SemanticScholarSource, papercopilot.PaperCopilotSource, crossref.CrossrefSource,
        endnote.EndnoteReferSource, isi.IsiSource, mods.ModsSource, zotero_rdf.ZoteroRdfSource, cff.CffSource,
        endnote_xml.EndnoteXmlSource, mathscinet.MathSciNetSource, generic.GenericSource,
    ]
