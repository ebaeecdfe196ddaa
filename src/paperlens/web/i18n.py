"""UI labels in the two languages the digest speaks."""

from __future__ import annotations

LANGS = ("en", "zh")
DEFAULT_LANG = "en"

_LABELS: dict[str, tuple[str, str]] = {
    # key: (en, zh)
    "site": ("paperlens", "paperlens"),
    "tagline": ("a structured, searchable, bilingual paper digest", "结构化、可检索的双语论文速览"),
    "home": ("Digest", "速览"),
    "feed": ("Feed", "最新"),
    "trends": ("Trends", "趋势"),
    "search": ("Search", "搜索"),
    "search_placeholder": ("Search titles, abstracts, keywords, authors…", "搜索标题、摘要、关键词、作者…"),
    "papers": ("papers", "篇"),
    "n_papers": ("{n} papers", "{n} 篇"),
    "n_paper": ("{n} paper", "{n} 篇"),
    "total_papers": ("Papers", "论文总数"),
    "topics": ("Topics", "主题"),
    "authors": ("Authors", "作者"),
    "with_code": ("With code", "含代码"),
    "with_summary": ("Structured summaries", "结构化总结"),
    "areas_topics": ("Areas and topics", "领域与主题"),
    "recent": ("Recent papers", "最近论文"),
    "other_views": ("Other views", "其他视图"),
    "no_topic": ("Papers without a topic", "未分类论文"),
    "abstract": ("Full abstract (Abstract)", "查看完整摘要 (Abstract)"),
    "abstract_plain": ("Abstract", "摘要"),
    "sort": ("Sort", "排序"),
    "sort_default": ("Digest order", "默认顺序"),
    "sort_date": ("Newest", "最新"),
    "sort_title": ("Title", "标题"),
    "sort_rating": ("Rating", "评分"),
    "year": ("Year", "年份"),
    "venue": ("Venue", "会议"),
    "keyword": ("Keyword", "关键词"),
    "any": ("any", "全部"),
    "has_code": ("has code", "有代码"),
    "apply": ("Apply", "应用"),
    "clear_filters": ("Clear", "清除"),  # not "clear": templates would reach dict.clear first
    "prev": ("← Newer", "← 上一页"),
    "next": ("Older →", "下一页 →"),
    # Relevance-ranked pages (search) are not in time order.
    "prev_ranked": ("← Previous", "← 上一页"),
    "next_ranked": ("Next →", "下一页 →"),
    "did_you_mean": ("Did you mean", "您是不是要找"),
    "page_of": ("page {page} of {pages}", "第 {page} / {pages} 页"),
    "code": ("Code", "Code"),
    "sources": ("Sources", "来源"),
    "provenance": ("Provenance", "字段来源"),
    "enrichments": ("Enrichments", "增强结果"),
    "bibtex": ("BibTeX", "BibTeX"),
    "similar": ("Similar papers", "相似论文"),
    "similar_embed": ("nearest by embedding ({model})", "按向量相似度 ({model})"),
    "similar_text": ("by shared words (full-text search; no embeddings stored)", "按共同词语 (全文检索；无向量)"),
    "coauthors": ("Co-authors", "合作者"),
    "no_year": ("Undated", "无日期"),
    "results_for": ("{n} results for “{q}”", "“{q}” 共 {n} 条结果"),
    "result_for": ("1 result for “{q}”", "“{q}” 共 1 条结果"),
    "no_results": ("Nothing matched.", "没有匹配的论文。"),
    "empty_query": ("Type words to search.", "请输入检索词。"),
    "export_bib": ("BibTeX of this list", "导出 BibTeX"),
    "atom": ("Atom feed", "Atom 订阅"),
    "papers_per_year": ("Papers per year, by topic", "各主题逐年论文数"),
    "topic_sizes": ("Papers per topic", "各主题论文数"),
    "rising": ("Rising keywords", "上升关键词"),
    "years_skipped": ("Years without papers are left out of the chart: {years}.", "图中略去了没有论文的年份：{years}。"),
    "rising_note": ("papers in {last} vs. the years before", "{last} 年论文数 对比 此前各年"),
    "rising_none": ("Not enough dated papers with keywords to compare years.",
                    "带关键词且有日期的论文不足，无法比较年份。"),
    "lang_switch": ("中文", "English"),
    "only_lang": ("(summary only in {lang})", "(仅有{lang}总结)"),
    "lang_en": ("English", "英文"),
    "lang_zh": ("Chinese", "中文"),
    "tldr": ("TL;DR:", "TL;DR:"),
    "derived_title": ("title from the abstract", "标题取自摘要"),
    "untitled": ("no title given", "未给出标题"),
    "details": ("Details", "详情"),
    "field": ("Field", "字段"),
    "origin": ("Origin", "来源"),
    "step": ("Step", "步骤"),
    "status": ("Status", "状态"),
    "version": ("Version", "版本"),
    "model": ("Model", "模型"),
    "date": ("Date", "日期"),
    "error": ("Error", "错误"),
    "ids": ("Identifiers", "标识"),
    "raw_abstract": ("Abstract as the source gave it", "原始摘要"),
    "not_found": ("Not found", "未找到"),
    "bad_request": ("Bad request", "请求有误"),
    "api_docs": ("API", "API"),
    "tag": ("Keyword", "关键词"),
    "topic": ("Topic", "主题"),
    "area": ("Area", "领域"),
    "no_js_search": ("Search needs JavaScript in the static site.", "静态站点的搜索需要 JavaScript。"),
    "loading": ("Loading index…", "正在加载索引…"),
}


def labels(lang: str) -> dict[str, str]:
    index = 1 if lang == "zh" else 0
    return {key: pair[index] for key, pair in _LABELS.items()}


def pick_lang(query_value: str | None, cookie_value: str | None) -> str:
    for value in (query_value, cookie_value):
        if value in LANGS:
            return value
    return DEFAULT_LANG
