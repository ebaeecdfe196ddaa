"""Long fuzz run over every source parser and the LaTeX cleaner.

Each parser is fed mutations of realistic seeds of ITS OWN format (plus, now and then, another
format's), so the cases get past detection and deep into record parsing:
  - byte/line mutations: truncation, byte flips, line drops/duplicates/swaps, hostile fragments, encodings;
  - structure-aware mutations: a JSON value (arXiv snapshot, OpenReview note, our export) or a CSV cell
    (arXiv CSV, ICLR CSV) replaced by a hostile value of another type, then re-serialised;
  - format-specific fragments (broken BibTeX braces, unclosed XML tags, CSV quotes, Python literals);
  - hostile-size mutations (issue 14): nesting far past PAPERLENS_MAX_JSON_DEPTH (and deep XML), lone
    surrogates (JSON \\ud800 escapes, XML character references, CESU bytes), and sizes past the field, line and
    document limits (run with small limits set here, so a case stays small and fast: see LIMITS).
Each case must finish within --timeout CPU-seconds (a CPU-time alarm, SIGPROF: on a machine shared with
other jobs a wall-clock alarm turns slow cases into false hangs; a wall-clock alarm at 12 times that still
catches a case that blocks) with only Paper or Rejected records whose path is the file and whose line exists in it (or a SourceError naming the file). Seeds are the bundled samples, tests/fixtures and
variants derived from them (OpenReview v1 / list / one-note-per-line, our JSONL export).

Usage: PYTHONPATH=src python bench/fuzz.py [--cases 10000] [--seed 1] [--timeout 5] [--formats a,b]
"""

from __future__ import annotations

import argparse
import copy
import csv
import io
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from paperlens.core.clean import latex_to_text
from paperlens.core.models import Paper
from paperlens.sources import SOURCES, SourceError, read_records
from paperlens.sources.base import Rejected

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "src" / "paperlens" / "sample"
FIXTURES = ROOT / "tests" / "fixtures"
HOSTILE = [b"<script>alert(1)</script>", b"<img src=x onerror=alert(1)>", b"\\textbf{", b"\\href{x}{", b"}}}}",
           b"$$$", b"\x00", b"\xff\xfe", b"\xe9", b"\r", b"\r\n", "篇".encode(), b'{"id": ', b"@article{x,",
           b"Abstract:", b"CLFeb 30", b"'; DROP TABLE papers; --", b"\\footnote{" * 50, b"#" * 1000,
           # format-specific
           b'"', b'""', b'","', b",", b"\n,,,\n", b"[", b"]", b"{", b"null", b"1e999", b"-0", b"NaN",
           b'{"value": ', b"[(", b"'", b"<entry>", b"</entry>", b"<feed", b"<![CDATA[", b"&amp;", b"&#0;",
           b"&bogus;", b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]>", b"<title>", b"</summary>", b"@string{a = \"",
           b"@comment{", b"author = {", b" and ", b"others", b"= {", b"},", b"%", b"\\\"{o}", b"{\\'e}",
           b"0704.0001", b"1501.1", b"http://arxiv.org/abs/", b"openreview.net/forum?id=", b"\t", b"\ufeff",
           "\u2028".encode(), b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]
HOSTILE_VALUES: list[Any] = [None, 0, -1, 1.5, 1e308, True, "", " ", "x" * 5000, [], {}, [None], {"value": None},
                             {"value": [1, {"a": 2}]}, ["a", 1, None], "\\textbf{", "<b>", "\x00", "'\"",
                             "[('a', 'b'", "Mon, 99 Foo 2007", "13/45/2020", "9" * 40, "0704.0001", "http://",
                             "https://github.com/a/b", "NaN", "-1e999", "\ud800" if False else "\ufffd",
                             # replaced after serialising (see SENTINELS): too deep, a lone surrogate, too big
                             "__DEEP__", "__SURROGATE__", "__BIG__", "__MANY__"]


# Small limits for the run, so the size mutators cross them with inputs of a few hundred kB (set unless the
# environment already says otherwise; the parser code paths are the same as with the defaults).
LIMITS = {"PAPERLENS_MAX_LINE_BYTES": "200000", "PAPERLENS_MAX_DOCUMENT_BYTES": "1000000",
          "PAPERLENS_MAX_ABSTRACT_CHARS": "20000", "PAPERLENS_MAX_FIELD_CHARS": "20000"}
DEEP = [b"[" * 101, b"[" * 3000, b"{\"a\":" * 3000, b"[{\"v\": " * 700, b"<e>" * 3000, b"[" * 3000 + b"]" * 3000,
        b"{" * 20000]
SURROGATES = [b"\\ud800", b"\\udfff", b"\\ud83d", b"\\ud800\\udc00", b"\\uDBFF", b"&#xD800;", b"&#55296;",
              b"\xed\xa0\x80", b"\xed\xbf\xbf"]
SENTINELS = {"__DEEP__": lambda rng: rng.choice(DEEP[:4]).decode() + "1" + rng.choice(["]" * 3000, "", "}"]),
             "__SURROGATE__": lambda rng: json.dumps("x" + rng.choice(["\ud800", "\udfff", "\udbff"]) + "y"),
             "__BIG__": lambda rng: json.dumps("w" * rng.choice([2001, 20001, 200001])),
             "__MANY__": lambda rng: json.dumps([f"Name{i} Surname" for i in range(rng.choice([10001, 30000]))])}


def mutate_size(data: bytes, rng: random.Random) -> bytes:
    """Insert something past a limit: nesting, a lone surrogate, or a huge run of text or names."""
    lines = data.split(b"\n") or [b""]
    i = rng.randrange(len(lines))
    pos = rng.randrange(len(lines[i]) + 1)
    kind = rng.randrange(3)
    if kind == 0:
        piece = rng.choice(DEEP)
    elif kind == 1:
        piece = rng.choice(SURROGATES)
    else:
        piece = rng.choice([b"w" * 2001, b"w" * 20001, b"w" * 250_001, b"a and " * 11000, b"<b>" * 30000,
                            b"x" * 1_100_000])
    lines[i] = lines[i][:pos] + piece + lines[i][pos:]
    return b"\n".join(lines)


def _sentinels(text: str, rng: random.Random) -> str:
    for name, make in SENTINELS.items():
        quoted = json.dumps(name)
        while quoted in text:
            text = text.replace(quoted, make(rng), 1)
    return text


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout


# ------------------------------------------------------------------------------------ seeds


def _openreview_variants(data: bytes) -> list[bytes]:
    """A `{"notes": [...]}` response as a list, one note per line, and v1 fields (other shapes: none)."""
    try:
        notes = json.loads(data)["notes"]
    except (ValueError, KeyError, TypeError):
        return []
    if not isinstance(notes, list) or not all(isinstance(n, dict) and isinstance(n.get("content"), dict)
                                              for n in notes):
        return []

    def v1(note: dict) -> dict:
        note = json.loads(json.dumps(note))
        note["content"] = {k: (v["value"] if isinstance(v, dict) and "value" in v else v)
                           for k, v in note["content"].items()}
        return note

    return [json.dumps(notes, indent=2).encode(), "\n".join(json.dumps(n) for n in notes).encode(),
            json.dumps({"notes": [v1(n) for n in notes]}, indent=1).encode()]


def _export_seed() -> bytes:
    """Our own JSONL export of the fixtures' papers (the format `jsonl` reads)."""
    lines = []
    for fixture in ("arxiv_snapshot.jsonl", "openreview_notes.json", "papers.bib"):
        for record in read_records(FIXTURES / fixture):
            if isinstance(record, Paper):
                lines.append(json.dumps(record.export_dict(), ensure_ascii=False))
    return "\n".join(lines).encode()


def load_seeds() -> dict[str, list[bytes]]:
    """Seeds per format name; detection decides which format a file is, so no name is guessed."""
    from paperlens.sources import detect_format

    seeds: dict[str, list[bytes]] = {name: [] for name in SOURCES}
    files = sorted(SAMPLE_DIR.glob("*.txt")) + sorted(p for p in FIXTURES.glob("*") if p.is_file())
    for path in files:
        fmt = detect_format(path)
        data = path.read_bytes()
        if len(data) > 30000:  # the digest sample is 1.8 MB: take whole sections from several places
            text = data.decode("utf-8")
            for start in (0, len(text) // 3, 2 * len(text) // 3):
                seeds[fmt].append(text[start:start + 30000].encode())
        else:
            seeds[fmt].append(data)
        if fmt == "openreview-json":
            seeds[fmt] += _openreview_variants(data)
    seeds["jsonl"].append(_export_seed())
    return seeds


# ------------------------------------------------------------------------------------ mutations


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(8)
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
        elif op == 7 and lines:  # delete a span of bytes inside a line (drops a quote, brace, tag end...)
            i = rng.randrange(len(lines))
            a = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:a] + lines[i][a + rng.randint(1, 8):]
        data = b"\n".join(lines)
    return data


def _json_paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    paths = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            paths += _json_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths += _json_paths(item, (*prefix, index))
    return paths


def _set(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    value[path[0]] = _set(value[path[0]], path[1:], new)
    return value


def _mutate_json_value(value: Any, rng: random.Random) -> Any:
    for _ in range(rng.randint(1, 3)):
        paths = _json_paths(value)
        path = rng.choice(paths[1:] or paths)
        if path and rng.random() < 0.2 and isinstance(_get(value, path[:-1]), dict):
            del _get(value, path[:-1])[path[-1]]  # drop a key
        else:
            value = _set(value, path, copy.deepcopy(rng.choice(HOSTILE_VALUES)))  # never share: no cycles
    return value


def _get(value: Any, path: tuple) -> Any:
    for key in path:
        value = value[key]
    return value


def mutate_json_lines(data: bytes, rng: random.Random) -> bytes:
    lines = data.decode("utf-8").split("\n")
    candidates = [i for i, line in enumerate(lines) if line.strip()]
    for i in rng.sample(candidates, min(len(candidates), rng.randint(1, 2))):
        try:
            lines[i] = _sentinels(json.dumps(_mutate_json_value(json.loads(lines[i]), rng),
                                             ensure_ascii=rng.random() < 0.5), rng)
        except ValueError:
            pass
    return "\n".join(lines).encode()


def mutate_json_document(data: bytes, rng: random.Random) -> bytes:
    try:
        value = json.loads(data)
    except ValueError:
        return mutate_json_lines(data, rng)
    return _sentinels(json.dumps(_mutate_json_value(value, rng), indent=rng.choice([None, 1, 2])), rng).encode()


def mutate_csv(data: bytes, rng: random.Random) -> bytes:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    for _ in range(rng.randint(1, 3)):
        r = rng.randrange(len(rows))
        if not rows[r]:
            continue
        c = rng.randrange(len(rows[r]))
        choice = rng.random()
        if choice < 0.1:
            del rows[r][c]  # wrong column count
        elif choice < 0.15:
            rows[r].append("extra")
        else:
            value = copy.deepcopy(rng.choice(HOSTILE_VALUES))
            value = value if isinstance(value, str) else json.dumps(value)
            rows[r][c] = _sentinels(json.dumps(value), rng)[1:-1] if value in SENTINELS else value
    out = io.StringIO()
    csv.writer(out, quoting=rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])).writerows(rows)
    return out.getvalue().encode()


STRUCTURED: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "arxiv-jsonl": mutate_json_lines, "jsonl": mutate_json_lines, "openreview-json": mutate_json_document,
    "arxiv-csv": mutate_csv, "iclr-csv": mutate_csv,
}


def make_case(fmt: str, seeds: dict[str, list[bytes]], everything: list[bytes], rng: random.Random) -> bytes:
    own = seeds.get(fmt) or everything
    seed = rng.choice(everything) if rng.random() < 0.1 else rng.choice(own)
    if rng.random() < 0.15:
        data = STRUCTURED[fmt](seed, rng) if fmt in STRUCTURED and seed in own and rng.random() < 0.5 else seed
        return mutate_size(data, rng)
    if fmt in STRUCTURED and seed in own and rng.random() < 0.5:
        data = STRUCTURED[fmt](seed, rng)
        return mutate_bytes(data, rng) if rng.random() < 0.3 else data
    return mutate_bytes(seed, rng)


# ------------------------------------------------------------------------------------ checking


def check(path: Path, fmt: str, n_lines: int) -> str:
    try:
        records = list(read_records(path, fmt=fmt))
    except SourceError as exc:
        return "file-error" if exc.path == str(path) else f"bad SourceError path {exc}"
    outcome = "ok"
    for record in records:
        if isinstance(record, Rejected):
            if record.path != str(path) or not 1 <= record.line <= n_lines or not record.message:
                return f"bad rejection {record}"
            outcome = "rejected"
        elif isinstance(record, Paper):
            if not (record.title or record.abstract) or not record.id:
                return f"paper without title/abstract/id {record.id!r}"
        else:
            return f"unexpected record {record!r}"
    return outcome if records else "empty"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10000, help="cases per parser")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=5, help="CPU-seconds allowed per case (a hang past it)")
    parser.add_argument("--formats", help="comma-separated formats (default: auto and every registered one)")
    args = parser.parse_args()
    for name, value in LIMITS.items():
        os.environ.setdefault(name, value)
    rng = random.Random(args.seed)
    seeds = load_seeds()
    everything = [s for group in seeds.values() for s in group]
    print("seeds per format:", {k: len(v) for k, v in seeds.items()})
    formats = args.formats.split(",") if args.formats else ["auto", *SOURCES]
    signal.signal(signal.SIGPROF, _alarm)
    signal.signal(signal.SIGALRM, _alarm)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.txt"
        for fmt in formats:
            start, cpu_start, outcomes, slowest = time.perf_counter(), time.process_time(), {}, 0.0
            for _ in range(args.cases):
                data = make_case(fmt, seeds, everything, rng)
                path.write_bytes(data)
                signal.setitimer(signal.ITIMER_PROF, args.timeout)
                signal.setitimer(signal.ITIMER_REAL, 12 * args.timeout)
                began = time.process_time()
                try:
                    outcome = check(path, fmt, data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 1)
                except Timeout:
                    outcome = "HANG"
                except Exception as exc:  # noqa: BLE001 - a crash is what we are looking for
                    outcome = f"CRASH {type(exc).__name__}: {exc}"
                finally:
                    signal.setitimer(signal.ITIMER_PROF, 0)
                    signal.setitimer(signal.ITIMER_REAL, 0)
                slowest = max(slowest, time.process_time() - began)
                key = outcome if outcome in ("ok", "rejected", "empty", "file-error") else "FAIL"
                outcomes[key] = outcomes.get(key, 0) + 1
                if key == "FAIL":
                    failures += 1
                    if failures <= 30:
                        keep = Path(tmp).parent / f"paperlens-fuzz-{fmt}-{failures}.bin"
                        keep.write_bytes(data)
                        print(f"  {fmt}: {outcome[:300]} (input saved to {keep})", file=sys.stderr, flush=True)
            print(f"{fmt:20s} {args.cases} cases in {time.perf_counter() - start:6.1f}s wall, "
                  f"{time.process_time() - cpu_start:6.1f} CPU-s  slowest {slowest:5.2f} CPU-s  "
                  f"{dict(sorted(outcomes.items()))}", flush=True)
        start = time.perf_counter()
        for _ in range(args.cases):
            text = mutate_bytes(rng.choice(everything), rng).decode("utf-8", "replace")
            latex_to_text(text[: rng.randint(0, 3000)])
        print(f"{'latex_to_text':20s} {args.cases} cases in {time.perf_counter() - start:6.1f}s  no crash")
    print("failures:", failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
