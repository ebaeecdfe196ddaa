"""daily, digest: the unattended daily run and one digest on demand."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from paperlens.cli import main
from paperlens.recommend.profiles import ProfileError, clean_settings
from paperlens.sources.arxiv_atom import ARXIV_API
from paperlens.sources.arxiv_rss import ARXIV_LISTING

err = Console(stderr=True)


def _smtp(address: str | None):
    if not address:
        return None
    from paperlens.daily.mail import MailError, SmtpSettings

    try:
        return SmtpSettings.parse(address)
    except MailError as exc:
        raise click.UsageError(str(exc)) from exc


def _day(value: str | None):
    if not value:
        return datetime.now(UTC).date()
    from paperlens.cli.core import _as_of

    return _as_of(value)


class _Bars:
    """One rich progress bar per phase (fetch, enrich STEP, rank NAME)."""

    def __init__(self, progress: Progress):
        self.progress, self.tasks = progress, {}

    def __call__(self, phase: str, advance: int, total: int | None) -> None:
        if phase not in self.tasks:
            self.tasks[phase] = self.progress.add_task(phase, total=total)
        self.progress.update(self.tasks[phase], advance=advance, total=total)


@main.command()
@click.option("--profile", "profiles", multiple=True, help="Run this profile only; repeat (default: all).")
@click.option("--date", "day", help="The announcement day (default today, UTC); past days use the arXiv API.")
@click.option("--smtp", help="HOST:PORT of the mail server (credentials: PAPERLENS_SMTP_USER/_PASSWORD/_FROM; "
                             "PAPERLENS_SMTP_SECURITY=starttls|ssl|none).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500), help="Papers per digest.")
@click.option("--steps", help="Enrichment steps, comma-separated (default: the default local steps).")
@click.option("--llm", is_flag=True, help="Also summarise with the LLM step (PAPERLENS_LLM_* settings), and judge "
                                        "the top candidates against a profile's relevance prompt.")
@click.option("--judge-top", type=click.IntRange(1, 1000),
              help="With --llm: how many top candidates the LLM judges for relevance (default 3 x --limit).")
@click.option("--lang", help="Languages of the LLM summaries, e.g. en,zh.")
@click.option("--site", "site_dir", type=click.Path(path_type=Path),
              help="Write each profile's page and Atom feed under this directory (e.g. the static site).")
@click.option("--base-url", default="", help="Where the site is served (absolute links in feeds and emails).")
@click.option("--api-url", default=ARXIV_API, show_default=True, help="arXiv API endpoint (a mirror, or a replay).")
@click.option("--feed-url", default=ARXIV_LISTING, show_default=True, help="arXiv listing feed base.")
@click.option("--source", type=click.Choice(["auto", "listing", "api"]), default="auto", show_default=True,
              help="auto: the listing feed for today, the API for a past --date.")
@click.option("--save-dir", type=click.Path(path_type=Path), help="Raw responses (default: fetched/ by the db).")
@click.option("--delay", default=3.0, show_default=True, help="Seconds between arXiv API pages.")
@click.option("--retries", default=3, show_default=True, help="Retries of a failed fetch.")
@click.option("--backoff", default=10.0, show_default=True, help="Seconds before the first retry (doubling).")
@click.option("--dry-run", is_flag=True, help="Rank and print; send and record nothing.")
@click.pass_obj
def daily(obj, profiles, day, smtp, limit, judge_top, steps, llm, lang, site_dir, base_url, api_url, feed_url, source,
          save_dir, delay, retries, backoff, dry_run):
    """Fetch the day's new papers of each profile's categories, enrich, rank and publish; rerun-safe."""
    from paperlens.daily.run import DailyConfig, run_daily

    config = DailyConfig(
        day=_day(day), api_url=api_url, feed_url=feed_url,
        save_dir=save_dir or Path(obj.db).resolve().parent / "fetched",
        listing=None if source == "auto" else source == "listing", delay=delay, retries=retries, backoff=backoff,
        steps=[s.strip() for s in steps.split(",") if s.strip()] if steps else None, llm=llm, lang=lang,
        limit=limit, judge_top=judge_top, smtp=_smtp(smtp), site_dir=site_dir, base_url=base_url, dry_run=dry_run)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, disable=not sys.stderr.isatty(), transient=True) as progress:
        try:
            results = run_daily(obj.store, config, list(profiles) or None, on_progress=_Bars(progress),
                                on_notice=lambda message: click.echo(message, err=True))
        except ProfileError as exc:
            raise click.ClickException(str(exc)) from exc
    for result in results:
        click.echo(f"{result.profile} {result.day}: {result.message}")
        for problem in result.problems:
            click.echo(f"  problem: {problem}", err=True)
        if dry_run and result.digest is not None:
            click.echo(result.digest.text())
    if not all(r.ok for r in results):
        raise SystemExit(1)


@main.command()
@click.argument("name")
@click.option("--to", "recipients", multiple=True, help="Send to this address; repeat.")
@click.option("--smtp", help="HOST:PORT of the mail server (see `paperlens daily --help`).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
@click.option("--since", help="Rank papers dated on or after this day (default: the last 7 days).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the HTML digest here.")
@click.option("--llm", is_flag=True, help="Have the LLM (PAPERLENS_LLM_* settings) judge the top candidates against "
                                          "the profile's relevance prompt, as `recommend --llm` does.")
@click.option("--judge-top", type=click.IntRange(1, 1000),
              help="With --llm: how many top candidates are judged (default 3 x --limit).")
@click.pass_obj
def digest(obj, name, recipients, smtp, limit, since, out, llm, judge_top):
    """Make one digest of profile NAME now: write it (--out) and/or send it (--to with --smtp).
    On-demand digests are not recorded: the daily run still sends its own."""
    from datetime import timedelta

    from paperlens.daily.mail import MailError, build_message, send
    from paperlens.daily.run import build_digest
    from paperlens.recommend.profiles import recommend_judged
    from paperlens.recommend.relevance import RelevanceJudge

    if recipients and not smtp:
        raise click.UsageError("--to needs --smtp HOST:PORT")
    try:  # the check of a profile's --email: a CR/LF in an address is a sentence, not a header traceback
        clean_settings({"emails": list(recipients)})
    except ProfileError as exc:
        raise click.UsageError(f"--to: {exc}") from exc
    if not recipients and not out:
        raise click.UsageError("give --out FILE.html, or --to ADDR with --smtp")
    settings = _smtp(smtp)
    today = datetime.now(UTC).date()
    start = _day(since) if since else today - timedelta(days=7)
    try:
        judge = RelevanceJudge(top=judge_top) if llm else None
        ranked, report = recommend_judged(obj.store, name, judge, since=start.isoformat(), limit=limit, today=today)
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from exc
    if llm and report.note():
        click.echo(report.note(), err=True)
    if not ranked:
        click.echo(f"nothing to send: no papers since {start.isoformat()} outside the library")
        raise SystemExit(1)
    problems = [report.problem()] if llm and report.problem() else []
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    made = build_digest(obj.store, name, today.isoformat(), ranked, problems, None,
                        notes=[report.note()] if llm and report.note() else None)
    if out:
        try:
            out.write_text(made.html(), encoding="utf-8")
        except OSError as exc:  # as `export -o` says it
            raise click.ClickException(f"{out}: cannot write ({exc.strerror or exc})") from exc
        click.echo(f"wrote {len(made.items)} papers to {out}")
    if recipients:
        message = build_message(settings.sender, list(recipients), made.subject, made.text(), made.html(),
                                f"{name}-{today.isoformat()}-on-demand")
        try:
            send(settings, message)
        except MailError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"sent {len(made.items)} papers to {', '.join(recipients)}")
