"""Save a PNG of each page of the web digest so a person can look at it.

    PYTHONPATH=src python bench/screenshots.py [--db var/sample.db] [--out screenshots/]

Without --db (or when it does not exist) the four bundled seeds are ingested into a temporary DB.
Uses the system Chromium (/usr/bin/chromium); never downloads a browser."""

from __future__ import annotations

import argparse
import re
import socket
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import uvicorn

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sample_db(path: Path) -> Path:
    from paperlens.ingest.pipeline import ingest_paths
    from paperlens.store import Store

    sample = Path(__file__).resolve().parents[1] / "src" / "paperlens" / "sample"
    store = Store(path)
    ingest_paths(store, sorted(sample.glob("*.txt")), as_of=date(2026, 11, 23))
    store.close()
    return path


def serve(db: Path) -> tuple[uvicorn.Server, str]:
    from paperlens.web.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(str(db)), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path)
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument("--width", type=int, default=1280)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    tmp = tempfile.TemporaryDirectory()
    db = args.db if args.db and args.db.exists() else sample_db(Path(tmp.name) / "sample.db")
    server, base = serve(db)
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": args.width, "height": 900})
        page.goto(base + "/")
        home = page.content()
        topic = re.search(r'href="(/topics/[^"]+)"', home)
        author = re.search(r'href="(/authors/[^"]+)"', home)
        tag = re.search(r'href="(/tags/[^"]+)"', home)
        shots = [("home", "/"), ("feed", "/feed"), ("trends", "/trends"), ("search", "/search?q=attention+layers"),
                 ("docs", "/docs"), ("not-found", "/papers/no-such-paper")]
        if topic:
            shots.append(("topic", topic.group(1)))
            shots.append(("topic-en", topic.group(1) + "?lang=en"))
            shots.append(("topic-zh", topic.group(1) + "?lang=zh"))
        if author:
            shots.append(("author", author.group(1)))
        if tag:
            shots.append(("tag", tag.group(1)))
        shots.append(("author-qiaozhi-he", "/authors/qiaozhi-he"))
        for name, path in shots:
            page.goto(base + path)
            if name == "topic":
                first = page.locator("details.abstract summary").first
                if first.count():
                    first.click()
                paper = re.search(r'href="(/papers/[^"]+)"', page.content())
                page.screenshot(path=str(args.out / f"{name}.png"), full_page=False)
                if paper:
                    page.goto(base + paper.group(1))
                    page.screenshot(path=str(args.out / "paper.png"), full_page=True)
                continue
            page.screenshot(path=str(args.out / f"{name}.png"), full_page=name in ("trends", "home"))
        browser.close()
    server.should_exit = True
    print(f"wrote {len(list(args.out.glob('*.png')))} screenshots to {args.out}/")


if __name__ == "__main__":
    main()
