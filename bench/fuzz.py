"""Long fuzz run over every source parser and the LaTeX cleaner.

Mutates real samples (truncation, byte flips, line drops/duplicates/swaps, hostile fragments, random
encodings) and checks each case finishes in time with only Paper or Rejected records whose line numbers
exist in the file. Usage: python bench/fuzz.py [--cases 10000] [--seed 1] [--timeout 5]
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

from paperlens.clean import latex_to_text
from paperlens.models import Paper
from paperlens.sources import SOURCES, SourceError, read_records
from paperlens.sources.base import Rejected

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "src" / "paperlens" / "sample").glob("*.txt")) + sorted((ROOT / "tests" / "fixtures").glob("*"))
HOSTILE = [b"<script>alert(1)</script>", b"<img src=x onerror=alert(1)>", b"\\textbf{", b"\\href{x}{", b"}}}}",
           b"$$$", b"\x00", b"\xff\xfe", b"\xe9", b"\r", b"\r\n", "篇".encode(), b'{"id": ', b"@article{x,",
           b"Abstract:", b"CLFeb 30", b"'; DROP TABLE papers; --", b"\\footnote{" * 50, b"#" * 1000]


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout


def mutate(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        if op == 0 and data:
            data = data[: rng.randrange(len(data) + 1)]
            lines = data.split(b"\n")
        elif op == 1 and lines:
            del lines[rng.randrange(len(lines))]
        elif op == 2 and lines:
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])
        elif op == 3 and len(lines) > 1:
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 4 and lines:
            i = rng.randrange(len(lines))
            pos = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:pos] + rng.choice(HOSTILE) + lines[i][pos:]
        elif op == 5 and lines:
            i = rng.randrange(len(lines))
            raw = bytearray(lines[i])
            for _ in range(rng.randint(1, 5)):
                if raw:
                    raw[rng.randrange(len(raw))] = rng.randrange(256)
            lines[i] = bytes(raw)
        elif op == 6 and lines:
            i = rng.randrange(len(lines))
            try:
                lines[i] = lines[i].decode("utf-8").encode(rng.choice(["latin-1", "gb18030", "utf-16"]), "replace")
            except UnicodeDecodeError:
                pass
        data = b"\n".join(lines)
    return data


def check(path: Path, fmt: str, n_lines: int) -> str:
    try:
        records = list(read_records(path, fmt=fmt))
    except SourceError as exc:
        return "file-error" if exc.path == str(path) else f"bad SourceError path {exc}"
    for record in records:
        if isinstance(record, Rejected):
            if record.path != str(path) or not 1 <= record.line <= n_lines:
                return f"bad rejection {record}"
        elif not isinstance(record, Paper):
            return f"unexpected record {record!r}"
    return "ok"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10000, help="cases per parser")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=5, help="seconds allowed per case")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    seeds = [p.read_bytes()[:30000] for p in SAMPLES if p.is_file()]
    signal.signal(signal.SIGALRM, _alarm)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.txt"
        for fmt in ["auto", *SOURCES]:
            start, outcomes = time.perf_counter(), {}
            for _ in range(args.cases):
                data = mutate(rng.choice(seeds), rng)
                path.write_bytes(data)
                signal.alarm(args.timeout)
                try:
                    outcome = check(path, fmt, data.count(b"\n") + 1)
                except Timeout:
                    outcome = "HANG"
                except Exception as exc:  # noqa: BLE001 - a crash is what we are looking for
                    outcome = f"CRASH {type(exc).__name__}: {exc}"
                finally:
                    signal.alarm(0)
                key = outcome if outcome in ("ok", "file-error") else "FAIL"
                outcomes[key] = outcomes.get(key, 0) + 1
                if key == "FAIL":
                    failures += 1
                    if failures <= 20:
                        keep = Path(tmp).parent / f"paperlens-fuzz-{fmt}-{failures}.bin"
                        keep.write_bytes(data)
                        print(f"  {fmt}: {outcome} (input saved to {keep})", file=sys.stderr)
            print(f"{fmt:22s} {args.cases} cases in {time.perf_counter() - start:6.1f}s  {outcomes}")
        start = time.perf_counter()
        for _ in range(args.cases):
            text = mutate(rng.choice(seeds), rng).decode("utf-8", "replace")
            latex_to_text(text[: rng.randint(0, 3000)])
        print(f"{'latex_to_text':22s} {args.cases} cases in {time.perf_counter() - start:6.1f}s  no crash")
    print("failures:", failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
