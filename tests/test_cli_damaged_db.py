"""A database file that is damaged (truncated, overwritten) ends a command with one sentence naming it,
and is left as it was."""

from __future__ import annotations

from click.testing import CliRunner

from paperlens.cli import main
from paperlens.core.models import Paper
from paperlens.store import Store


def test_a_truncated_database_is_named_as_damaged_without_a_traceback(tmp_path):
    db = tmp_path / "papers.db"
    store = Store(db)
    store.ingest([Paper(id=f"t:{i}", title=f"Walrus paper number {i}", abstract="Tusks grow a ring a year. " * 40)
                  for i in range(300)])
    store.close()
    whole = db.read_bytes()
    assert len(whole) > 64 * 1024
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(whole[: len(whole) // 2])
    for args in (["stats"], ["search", "walrus"], ["show", "t:1"]):
        result = CliRunner().invoke(main, ["--db", str(damaged), *args])
        assert result.exit_code == 1, (args, result.output, result.exception)
        assert f"{damaged}: the database file is damaged" in result.output, (args, result.output)
    assert damaged.read_bytes() == whole[: len(whole) // 2]
