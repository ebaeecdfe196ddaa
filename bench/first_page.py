"""Time from a fresh clone to the first page: `git clone` this repository into a temporary folder, run
`make run PORT=...` there, and poll `/` until it answers 200 (issue 18: <= 3 min with pip's cache warm,
<= 8 min cold).
    python bench/first_page.py [--cold] [--port 8011] [--keep]
--cold gives pip an empty cache (PIP_CACHE_DIR in a temporary folder), so packages come from the index again.
Prints the seconds, the load average before and after, and the `enrich` lines of make's output.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cold", action="store_true", help="an empty pip cache")
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--timeout", type=float, default=1200)
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="paperlens-first-page-"))
    clone = work / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = dict(os.environ)
    if args.cold:
        env["PIP_CACHE_DIR"] = str(work / "pip-cache")
    load_before = os.getloadavg()[0]
    log = (work / "make-run.log").open("w")
    started = time.perf_counter()
    make = subprocess.Popen(["make", "run", f"PORT={args.port}"], cwd=clone, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    took = None
    try:
        while time.perf_counter() - started < args.timeout:
            if make.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/", timeout=5) as answer:
                    if answer.status == 200:
                        took = time.perf_counter() - started
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(1)
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(timeout=30)
        log.close()
    output = (work / "make-run.log").read_text(errors="replace")
    for line in output.splitlines():
        if line.startswith("enrich ") and "done" in line:
            print("  " + line)
    cache = "empty pip cache" if args.cold else "pip cache as it is"
    print(f"load average before {load_before:.2f}, after {os.getloadavg()[0]:.2f}")
    if took is None:
        print(f"no page: make run ended with {make.returncode}; the log is in {work / 'make-run.log'}")
        return 1
    print(f"first page after {took:.1f} s ({cache})")
    if args.keep:
        print(f"clone kept in {clone}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
