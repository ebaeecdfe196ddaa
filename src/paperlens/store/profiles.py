"""Reader profiles (issue 17): a profile's settings, its labelled papers (library positives, 👍/👎), its
daily runs and the digests sent from it. All the SQL of profiles lives here; `Store` mixes it in.

Tables (migration 6 in store/migrations.py):
- profiles(name, settings JSON, created_at, updated_at)
- profile_papers(profile, paper_id, label +1/-1, origin 'library'|'feedback', added_at)
- profile_runs(profile, day, phase -> status JSON, updated_at): what a daily run got done, so a rerun resumes
- profile_digests(profile, day, channel, recipient, status 'pending'|'sent', subject, body JSON, papers JSON,
  created_at, sent_at): a digest is recorded complete ('pending') before it is sent, marked 'sent' after
- profile_seen(profile, paper_id, day): papers already published for the profile (never repeated)
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

from paperlens.store import connection

if TYPE_CHECKING:
    from paperlens.store.connection import Transaction

PROFILES_MIGRATION = """
CREATE TABLE profiles (
    name TEXT PRIMARY KEY,
    settings TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE profile_papers (
    profile TEXT NOT NULL,
    paper_id TEXT NOT NULL,
    label INTEGER NOT NULL CHECK (label IN (1, -1)),
    origin TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (profile, paper_id)
) WITHOUT ROWID;
CREATE TABLE profile_runs (
    profile TEXT NOT NULL,
    day TEXT NOT NULL,
    phases TEXT NOT NULL DEFAULT '{}',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (profile, day)
) WITHOUT ROWID;
CREATE TABLE profile_digests (
    id INTEGER PRIMARY KEY,
    profile TEXT NOT NULL,
    day TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent')),
    subject TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '{}',
    papers TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE UNIQUE INDEX profile_digests_once ON profile_digests(profile, day, channel, recipient);
CREATE TABLE profile_seen (
    profile TEXT NOT NULL,
    paper_id TEXT NOT NULL,
    day TEXT NOT NULL,
    PRIMARY KEY (profile, paper_id)
) WITHOUT ROWID;
"""


def _now() -> str:
    return connection.utcnow()  # the store's one stamp (tests fix it there)


class ProfilesMixin:
    """Profile queries for `Store` (uses its `conn`, `transaction` and `resolve_id`)."""

    if TYPE_CHECKING:
        @property
        def conn(self) -> sqlite3.Connection: ...
        def transaction(self) -> Transaction: ...
        def resolve_id(self, pid: str) -> str | None: ...

    # -- profiles ------------------------------------------------------------------------------
    def profile_names(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM profiles ORDER BY name")]

    def profile_get(self, name: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT name, settings, created_at, updated_at FROM profiles WHERE name = ?",
                                (name,)).fetchone()
        if row is None:
            return None
        return {"name": row[0], "settings": json.loads(row[1]), "created_at": row[2], "updated_at": row[3]}

    def profile_save(self, name: str, settings: dict[str, Any]) -> None:
        now = _now()
        with self.transaction():
            self.conn.execute(
                "INSERT INTO profiles (name, settings, created_at, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
                (name, json.dumps(settings, ensure_ascii=False, sort_keys=True), now, now))

    def profile_remove(self, name: str) -> bool:
        with self.transaction():
            gone = self.conn.execute("DELETE FROM profiles WHERE name = ?", (name,)).rowcount
            for table in ("profile_papers", "profile_runs", "profile_digests", "profile_seen"):
                self.conn.execute(f"DELETE FROM {table} WHERE profile = ?", (name,))
        return bool(gone)

    # -- labelled papers -----------------------------------------------------------------------
    def profile_label(self, name: str, paper_ids: list[str], label: int, origin: str) -> int:
        """Mark papers +1 (library, 👍) or -1 (👎) for the profile; a later label replaces an earlier one."""
        now = _now()
        with self.transaction():
            self.conn.executemany(
                "INSERT INTO profile_papers (profile, paper_id, label, origin, added_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(profile, paper_id) DO UPDATE SET label = excluded.label, origin = excluded.origin, "
                "added_at = excluded.added_at",
                [(name, pid, label, origin, now) for pid in dict.fromkeys(paper_ids)])
        return len(set(paper_ids))

    def profile_unlabel(self, name: str, paper_id: str) -> bool:
        with self.transaction():
            return bool(self.conn.execute("DELETE FROM profile_papers WHERE profile = ? AND paper_id = ?",
                                          (name, paper_id)).rowcount)

    def profile_papers(self, name: str) -> dict[str, int]:
        """paper id (resolved to the stored id, so a merge that renamed a paper is followed) -> label."""
        out: dict[str, int] = {}
        for pid, label in self.conn.execute(
                "SELECT paper_id, label FROM profile_papers WHERE profile = ? ORDER BY added_at, paper_id", (name,)):
            real = self.resolve_id(pid) or pid
            out[real] = label
        return out

    def paper_marks(self, paper_id: str) -> dict[str, int]:
        """profile -> label of one (stored) paper, also under the ids it was marked by before a merge."""
        rows = self.conn.execute(
            "SELECT profile, label FROM profile_papers WHERE paper_id = ? OR paper_id IN "
            "(SELECT key FROM paper_keys WHERE paper_id = ?) ORDER BY added_at", (paper_id, paper_id))
        return {profile: label for profile, label in rows}

    def profile_counts(self, name: str) -> dict[str, int]:
        rows = self.conn.execute("SELECT origin, label, count(*) FROM profile_papers WHERE profile = ? "
                                 "GROUP BY origin, label", (name,)).fetchall()
        counts = {"library": 0, "liked": 0, "disliked": 0}
        for origin, label, n in rows:
            key = "library" if origin == "library" and label > 0 else "liked" if label > 0 else "disliked"
            counts[key] += n
        counts["sent_digests"] = self.conn.execute(
            "SELECT count(*) FROM profile_digests WHERE profile = ? AND status = 'sent'", (name,)).fetchone()[0]
        return counts

    # -- candidates ----------------------------------------------------------------------------
    def paper_ids_since(self, since: str | None = None, added_since: str | None = None) -> list[str]:
        """Ids of papers dated on/after `since` (yyyy-mm-dd) and/or added to the store on/after `added_since`."""
        where, params = [], []
        if since:
            where.append("(date >= ? OR (date IS NULL AND year >= ?))")
            params += [since, int(since[:4])]
        if added_since:
            where.append("added_at >= ?")
            params.append(added_since)
        sql = "SELECT id FROM papers" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY rowid"
        return [r[0] for r in self.conn.execute(sql, params)]

    # -- daily runs ----------------------------------------------------------------------------
    def profile_run(self, name: str, day: str) -> dict[str, Any]:
        row = self.conn.execute("SELECT phases FROM profile_runs WHERE profile = ? AND day = ?",
                                (name, day)).fetchone()
        return json.loads(row[0]) if row else {}

    def profile_run_update(self, name: str, day: str, phase: str, value: Any) -> None:
        with self.transaction():
            phases = self.profile_run(name, day)
            phases[phase] = value
            self.conn.execute(
                "INSERT INTO profile_runs (profile, day, phases, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(profile, day) DO UPDATE SET phases = excluded.phases, updated_at = excluded.updated_at",
                (name, day, json.dumps(phases, ensure_ascii=False, sort_keys=True), _now()))

    # -- digests -------------------------------------------------------------------------------
    def digest_get(self, name: str, day: str, channel: str, recipient: str = "") -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT id, status, subject, body, papers, created_at, sent_at FROM profile_digests "
            "WHERE profile = ? AND day = ? AND channel = ? AND recipient = ?",
            (name, day, channel, recipient)).fetchone()
        if row is None:
            return None
        return {"id": row[0], "status": row[1], "subject": row[2], "body": json.loads(row[3]),
                "papers": json.loads(row[4]), "created_at": row[5], "sent_at": row[6]}

    def digest_record(self, name: str, day: str, channel: str, recipient: str, subject: str,
                      body: dict[str, Any], papers: list[str]) -> dict[str, Any]:
        """Record a complete digest as 'pending' (before it is sent); an existing one for the same
        profile, day, channel and recipient is kept as it is and returned (so a rerun resends the same)."""
        existing = self.digest_get(name, day, channel, recipient)
        if existing is not None:
            return existing
        with self.transaction():
            self.conn.execute(
                "INSERT INTO profile_digests (profile, day, channel, recipient, status, subject, body, papers, "
                "created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?)",
                (name, day, channel, recipient, subject, json.dumps(body, ensure_ascii=False),
                 json.dumps(papers), _now()))
        recorded = self.digest_get(name, day, channel, recipient)
        assert recorded is not None  # just written, in this thread
        return recorded

    def digest_mark_sent(self, digest_id: int, name: str, day: str, papers: list[str]) -> None:
        """The digest went out: mark it sent and its papers seen, in one transaction."""
        with self.transaction():
            self.conn.execute("UPDATE profile_digests SET status = 'sent', sent_at = ? WHERE id = ?",
                              (_now(), digest_id))
            self.conn.executemany("INSERT OR IGNORE INTO profile_seen (profile, paper_id, day) VALUES (?, ?, ?)",
                                  [(name, pid, day) for pid in papers])

    def profile_seen(self, name: str, before_day: str | None = None) -> set[str]:
        """Papers already published for the profile (on days before `before_day`, when given)."""
        if before_day:
            rows = self.conn.execute("SELECT paper_id FROM profile_seen WHERE profile = ? AND day < ?",
                                     (name, before_day))
        else:
            rows = self.conn.execute("SELECT paper_id FROM profile_seen WHERE profile = ?", (name,))
        return {r[0] for r in rows}

    def profile_digests(self, name: str, limit: int = 30) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT day, channel, recipient, status, subject, papers, sent_at FROM profile_digests "
            "WHERE profile = ? ORDER BY day DESC, id DESC LIMIT ?", (name, limit)).fetchall()
        return [{"day": r[0], "channel": r[1], "recipient": r[2], "status": r[3], "subject": r[4],
                 "papers": json.loads(r[5]), "sent_at": r[6]} for r in rows]
