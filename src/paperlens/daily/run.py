"""`paperlens daily`: for each profile, fetch the day's new papers of its arXiv categories, ingest, enrich,
rank, then publish (email, Atom feed, profile pages).

Every phase is recorded per profile and day (store.profile_runs), so a rerun the same day resumes: a fetch
that worked is not repeated, enrichment skips what is done (and retries what failed), and a digest is
recorded complete before it is sent and marked sent after, so a rerun sends nothing twice and a failed
send is sent on the next run, the same message. Papers once published for a profile never come again."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from paperlens.daily.mail import MailError, PartlyRefused, SmtpSettings, build_message, send
from paperlens.daily.render import Digest, DigestItem
from paperlens.enrich.registry import load_steps
from paperlens.enrich.runner import run_step
from paperlens.enrich.views import apply_enrichments
from paperlens.ingest.pipeline import ingest_paths
from paperlens.recommend.profiles import ProfileError, recommend_judged, require
from paperlens.recommend.relevance import RelevanceJudge
from paperlens.sources.arxiv_atom import ARXIV_API, FetchError, fetch_arxiv
from paperlens.sources.arxiv_rss import ARXIV_LISTING, fetch_listing
from paperlens.store import Store

NO_NEW = "no new papers (arXiv does not announce on weekends/holidays)"
NEW_ANNOUNCEMENTS = ("new", "cross")

# What on_progress(phase, advance, total) is told; total None: not known yet.
Progress = Callable[[str, int, "int | None"], None]


@dataclass
class DailyConfig:
    day: date
    api_url: str = ARXIV_API
    feed_url: str = ARXIV_LISTING
    save_dir: Path = Path("fetched")
    listing: bool | None = None  # the listing feed (today's announcements); None: when `day` is today
    max_results: int = 1000
    delay: float = 3.0  # seconds between API pages (arXiv's terms ask for 3)
    retries: int = 3
    backoff: float = 10.0  # seconds before the first retry, doubled after each
    steps: list[str] | None = None  # enrichment steps; None: every default step (+ llm-summary with `llm`)
    llm: bool = False
    lang: str | None = None
    limit: int = 20
    judge_top: int | None = None  # with `llm`: candidates the LLM judges for relevance; None: 3 x limit
    smtp: SmtpSettings | None = None
    site_dir: Path | None = None  # profile pages and feeds written here
    base_url: str = ""  # where the site is served (absolute links in feeds and emails)
    dry_run: bool = False  # rank and write, send nothing, record nothing as sent


@dataclass
class ProfileResult:
    profile: str
    day: str
    status: str  # sent | published | already-sent | no-new | failed
    message: str
    fetched: int = 0
    ranked: int = 0
    recipients: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    digest: Digest | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("sent", "published", "already-sent", "no-new") and not self.problems


def announce_window(day: date) -> tuple[str, str]:
    """submittedDate bounds (arXiv's yyyymmddhhmm) for the papers announced on `day`: from the previous
    announcement day's submissions up to the day before (a Monday takes Friday to Sunday)."""
    start = day - timedelta(days=3 if day.weekday() == 0 else 1)
    end = day - timedelta(days=1)
    return start.strftime("%Y%m%d") + "0000", end.strftime("%Y%m%d") + "2359"


def with_retries(call: Callable[[], list[Path]], retries: int, backoff: float,
                 sleep: Callable[[float], None] = time.sleep) -> list[Path]:
    wait = backoff
    for attempt in range(retries + 1):
        try:
            return call()
        except FetchError:
            if attempt >= retries:
                raise
            sleep(wait)
            wait *= 2
    raise AssertionError("unreachable")


def fetch_day(store: Store, categories: list[str], config: DailyConfig, today: date) -> list[str]:
    """Fetch and ingest the papers of `categories` announced on config.day; their stored ids."""
    listing = config.listing if config.listing is not None else config.day == today
    if listing:
        paths = with_retries(lambda: [fetch_listing(categories, base_url=config.feed_url, save_dir=config.save_dir)],
                             config.retries, config.backoff)
        fmt = "arxiv-rss"
        keep = lambda paper: paper.extra.get("announce_type", "new") in NEW_ANNOUNCEMENTS  # noqa: E731
    else:
        cats = " OR ".join(f"cat:{c}" for c in categories)
        start, end = announce_window(config.day)
        query = f"({cats}) AND submittedDate:[{start} TO {end}]"
        paths = with_retries(lambda: fetch_arxiv(query, config.max_results, base_url=config.api_url,
                                                 save_dir=config.save_dir, delay=config.delay),
                             config.retries, config.backoff)
        fmt, keep = "arxiv-atom", None
    ids: list[str] = []
    report = ingest_paths(store, paths, fmt=fmt, keep=keep, check_format=False,
                          on_batch=lambda result: ids.extend(result.ids))
    problems = [problem for _, problem in report.file_errors]
    if problems and not ids:
        raise FetchError("; ".join(problems))
    return list(dict.fromkeys(ids))


def enrich(store: Store, config: DailyConfig, on_progress: Progress | None = None) -> list[str]:
    """Run the enrichment steps over what is new; the problems (failed papers per step)."""
    registry = load_steps()
    names = list(config.steps) if config.steps is not None else \
        [n for n, cls in sorted(registry.items(), key=lambda kv: kv[1].order) if cls.default]
    if config.llm and "llm-summary" not in names:
        names.append("llm-summary")
    problems = []
    for name in names:
        if name not in registry:
            raise ProfileError(f"unknown enrichment step {name!r}; known: {', '.join(registry)}")
        try:
            step = registry[name].create(lang=config.lang)
        except ValueError as exc:  # configuration (no API key, ...)
            problems.append(f"{name}: {exc}")
            continue

        def update(advance, total, name=name):
            if on_progress:
                on_progress(f"enrich {name}", advance, total)

        report = run_step(store, step, retry_failed=True, on_progress=update)
        if report.failed:
            first = report.errors[0] if report.errors else ""
            problems.append(f"{name}: {report.failed} paper(s) failed ({first})")
    return problems


def build_digest(store: Store, name: str, day: str, ranked, problems: list[str], page_url: str | None,
                 notes: list[str] | None = None) -> Digest:
    papers = {p.id: p for p in store.get_many([r.id for r in ranked])}
    enrichments = store.enrichments_for_many(list(papers))
    items = [DigestItem(apply_enrichments(papers[r.id], enrichments.get(r.id, {})), r.score, r.reasons)
             for r in ranked if r.id in papers]
    return Digest(name, day, items, problems=list(problems), page_url=page_url, notes=list(notes or ()))


@dataclass
class _Prepared:
    result: ProfileResult
    channel: str
    recipient: str
    fresh: list[str] | None = None  # papers to rank (None: nothing to rank)
    recorded: dict | None = None  # a digest recorded before and not sent yet
    final: bool = False
    retry: bool = False  # an earlier run of the day had problems (failed summaries): enrich retries them


def _prepare(store: Store, name: str, config: DailyConfig, fetched: dict[tuple, list[str]], today: date,
             on_progress: Progress | None) -> _Prepared:
    """Checks and the fetch: what is left to rank, to resend, or the final result."""
    settings = require(store, name)["settings"]
    day = config.day.isoformat()
    categories = settings.get("categories") or []
    recipients = settings.get("emails") or []
    channel = "email" if config.smtp and recipients else "feed"
    recipient = ",".join(recipients) if channel == "email" else ""
    result = ProfileResult(name, day, "failed", "", recipients=recipients if channel == "email" else [])
    prepared = _Prepared(result, channel, recipient)
    recorded = store.digest_get(name, day, channel, recipient)
    if recorded is not None:
        if recorded["status"] == "sent":
            result.status, result.message = "already-sent", f"the {day} digest was sent at {recorded['sent_at']}"
            prepared.final = True
            prepared.retry = bool(recorded["body"].get("problems"))
        else:  # recorded, not sent (the send failed last time): the very same message goes now
            prepared.recorded = recorded
        return prepared
    prepared.final = True
    if config.day.weekday() >= 5:
        result.status, result.message = "no-new", NO_NEW
        return prepared
    if not categories:
        result.message = (f"profile {name!r} follows no arXiv category (add one: paperlens profile set {name} "
                          "--category cs.CL)")
        result.problems.append(result.message)
        return prepared
    done = store.profile_run(name, day).get("fetch") or {}
    if done.get("status") == "ok":
        ids = done["ids"]
    else:
        key = tuple(sorted(categories))
        if key not in fetched:
            if on_progress:
                on_progress(f"fetch {'+'.join(key)}", 0, None)
            if fetched and config.delay:  # arXiv's terms: one request every 3 s, across profiles too
                time.sleep(config.delay)
            try:
                fetched[key] = fetch_day(store, list(key), config, today)
            except FetchError as exc:
                fetched[key] = None  # one failed fetch per run, not one per profile
                store.profile_run_update(name, day, "fetch", {"status": "failed", "error": str(exc)})
                result.message = f"fetch failed, nothing sent (rerun to resume): {exc}"
                result.problems.append(f"fetch: {exc}")
                return prepared
        if fetched[key] is None:
            result.message = "fetch failed, nothing sent (rerun to resume)"
            result.problems.append("fetch failed (see above)")
            return prepared
        ids = fetched[key]
        store.profile_run_update(name, day, "fetch", {"status": "ok", "ids": ids})
    result.fetched = len(ids)
    seen = store.profile_seen(name, before_day=day)
    fresh = [pid for pid in ids if pid not in seen]
    if not fresh:
        result.status, result.message = "no-new", NO_NEW
        return prepared
    prepared.fresh, prepared.final = fresh, False
    return prepared


def _publish(store: Store, prepared: _Prepared, config: DailyConfig, enrich_problems: list[str],
             on_progress: Progress | None, judge: RelevanceJudge | None = None,
             on_notice: Callable[[str], None] | None = None) -> ProfileResult:
    result, channel, recipient = prepared.result, prepared.channel, prepared.recipient
    name, day = result.profile, result.day
    recorded = prepared.recorded
    if recorded is None:
        problems = list(enrich_problems)
        if on_progress:
            on_progress(f"rank {name}", 0, None)
        ranked, judged = recommend_judged(store, name, judge, candidates=prepared.fresh, limit=config.limit,
                                          today=config.day)
        if not ranked:
            result.status, result.message = "no-new", NO_NEW + " (none left after the profile's filters)"
            return result
        if judged.problem():  # failed judgements: in the footer and the exit code, like failed summaries
            problems.append(judged.problem())
        notes = [judged.note()] if judged.candidates else []
        if judge is not None and judge.unavailable and judged.skipped == judge.unavailable and on_notice:
            on_notice(judge.unavailable)
        page_url = f"{config.base_url.rstrip('/')}/profiles/{name}/" if config.base_url else None
        digest = build_digest(store, name, day, ranked, problems, page_url, notes)
        result.digest, result.ranked, result.problems = digest, len(digest.items), problems
        if config.dry_run:
            result.status, result.message = "published", "dry run: nothing sent or recorded"
            return result
        # Complete and recorded before anything is sent.
        recorded = store.digest_record(name, day, channel, recipient, digest.subject, digest.as_record(),
                                       digest.paper_ids())
    else:
        result.ranked = len(recorded["papers"])
        result.problems = list(recorded["body"].get("problems", []))
    if channel == "email":
        body = recorded["body"]
        message = build_message(config.smtp.sender, result.recipients, recorded["subject"], body["text"],
                                body["html"], f"{name}-{day}-{recorded['id']}")
        try:
            send(config.smtp, message)
        except PartlyRefused as exc:  # it went out: sending it again would mail the others a second time
            store.digest_mark_sent(recorded["id"], name, day, recorded["papers"])
            result.status = "sent"
            result.message = f"sent {result.ranked} papers to {', '.join(exc.accepted)}"
            result.problems.append(f"email: {exc} (not sent again: the others have it)")
            return result
        except MailError as exc:
            result.status, result.message = "failed", f"not sent (kept for the next run): {exc}"
            result.problems.append(f"email: {exc}")
            return result
    store.digest_mark_sent(recorded["id"], name, day, recorded["papers"])
    result.status = "sent" if channel == "email" else "published"
    result.message = (f"sent {result.ranked} papers to {', '.join(result.recipients)}" if channel == "email"
                      else f"published {result.ranked} papers (feed and pages; no --smtp or no --email)")
    return result


def run_daily(store: Store, config: DailyConfig, profiles: list[str] | None = None, *,
              on_progress: Progress | None = None, today: date | None = None,
              on_notice: Callable[[str], None] | None = None) -> list[ProfileResult]:
    """Fetch every profile's categories, enrich once, then rank and publish each profile. With
    `config.llm`, profiles with a relevance prompt have their top candidates judged by the LLM
    (recommend/relevance.py); `on_notice` is told once when that cannot run (no key or endpoint)."""
    today = today or datetime.now(UTC).date()
    names = list(dict.fromkeys(profiles or store.profile_names()))
    if not names:
        raise ProfileError("no profiles (make one with `paperlens profile add NAME FILE --category cs.CL`)")
    for name in names:
        require(store, name)
    fetched: dict[tuple, list[str] | None] = {}
    prepared = [_prepare(store, name, config, fetched, today, on_progress) for name in names]
    to_rank = [p for p in prepared if not p.final and p.fresh is not None]
    problems = enrich(store, config, on_progress) if to_rank or any(p.retry for p in prepared) else []
    judge = RelevanceJudge(top=config.judge_top) if config.llm and not all(p.final for p in prepared) else None
    told: set[str] = set()

    def notice(message: str) -> None:  # once per run, however many profiles it concerns
        if message not in told and on_notice:
            told.add(message)
            on_notice(message)

    results = [p.result if p.final else _publish(store, p, config, problems, on_progress, judge, notice)
               for p in prepared]
    if config.site_dir is not None:
        from paperlens.web.profiles import write_profile_site

        write_profile_site(store, config.site_dir, names, base_url=config.base_url)
    return results
