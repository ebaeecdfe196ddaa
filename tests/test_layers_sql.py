"""All SQL lives in paperlens.store: a module outside it that holds an SQL statement, or calls execute on a
connection, fails here, naming the file and line. Strings are found with `ast`, so prose in comments does
not count; docstrings are skipped."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import paperlens

PACKAGE = Path(paperlens.__file__).parent

# Modules outside store/ that may hold SQL: none (the search rework moved the last of it into store/).
ALLOWED: set[str] = set()

# A statement's opening words, upper case as the code writes them (prose says "Select ..." or "select").
SQL = re.compile(
    r"\b(SELECT\s+(?:[\w*(]|DISTINCT\b).*?\bFROM\b|INSERT\s+(?:OR\s+\w+\s+)?INTO\b|UPDATE\s+(?:OR\s+\w+\s+)?\w+\s+SET\b"
    r"|DELETE\s+FROM\b|CREATE\s+(?:UNIQUE\s+|VIRTUAL\s+)?(?:TABLE|INDEX|VIEW|TRIGGER)\b|DROP\s+(?:TABLE|INDEX)\b"
    r"|ALTER\s+TABLE\b|PRAGMA\s+\w+|BEGIN\s+(?:IMMEDIATE|EXCLUSIVE)\b)",
    re.S,
)
EXECUTE = {"execute", "executemany", "executescript"}


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def sql_in(source: str, name: str) -> list[str]:
    """'name:line: what' for each SQL statement or execute call in a module's source."""
    tree = ast.parse(source, name)
    skip = _docstrings(tree)
    for node in ast.walk(tree):  # an f-string's literal parts are read with the f-string
        if isinstance(node, ast.JoinedStr):
            skip.update(id(v) for v in node.values)
    found = []
    for node in ast.walk(tree):
        text = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            text = node.value
        elif isinstance(node, ast.JoinedStr):  # an f-string: its literal parts, with the holes as "?"
            text = "".join(v.value if isinstance(v, ast.Constant) else "?" for v in node.values)
        if text is not None and SQL.search(text):
            found.append(f"{name}:{node.lineno}: SQL {SQL.search(text).group(0)[:40]!r}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in EXECUTE:
            found.append(f"{name}:{node.lineno}: a call of .{node.func.attr}()")
    return sorted(found, key=lambda hit: int(hit.split(":")[1]))


def _modules() -> dict[str, str]:
    return {path.relative_to(PACKAGE).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(PACKAGE.rglob("*.py")) if path.relative_to(PACKAGE).parts[0] != "store"}


def test_no_sql_outside_the_store():
    offenders = [hit for name, source in _modules().items() if name not in ALLOWED for hit in sql_in(source, name)]
    assert not offenders, "SQL belongs in paperlens.store (add a named Store method):\n" + "\n".join(offenders)


def test_the_allowlist_holds_only_modules_that_still_have_sql():
    modules = _modules()
    stale = sorted(name for name in ALLOWED if name not in modules or not sql_in(modules[name], name))
    assert not stale, f"no SQL left in {stale}: take them off ALLOWED in tests/test_layers_sql.py"


def test_the_check_finds_sql_and_passes_prose():
    caught = sql_in('rows = conn.execute(\n    f"SELECT id FROM papers WHERE x = {y}")\n'
                    'q = "INSERT OR IGNORE INTO paper_keys VALUES (?, ?)"\n'
                    's = "UPDATE papers SET data = ?"\n', "m.py")
    assert caught == ["m.py:1: a call of .execute()", "m.py:2: SQL 'SELECT id FROM'",
                      "m.py:3: SQL 'INSERT OR IGNORE INTO'", "m.py:4: SQL 'UPDATE papers SET'"]
    assert sql_in('"""Select the papers from a file, then update the set."""\nx = "Delete from the list"\n',
                  "m.py") == []
    # and the store itself is full of it, so the pattern matches the SQL the code really writes
    store = PACKAGE / "store"
    assert all(sql_in(p.read_text(encoding="utf-8"), p.name) for p in (store / "writer.py", store / "papers.py"))
