"""The LLM response cache (by content hash + prompt version + model + language) and the usage ledger
(every request sent to an endpoint, with its tokens and estimated cost)."""

from __future__ import annotations

import json
from typing import Any

from paperlens.store import connection
from paperlens.store.connection import Database, scalar
from paperlens.store.rows import chunks


class LlmLedger:
    def __init__(self, db: Database):
        self.db = db

    def cache_get(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """Cached responses by key (content hash + prompt version + model + language)."""
        out: dict[str, dict[str, Any]] = {}
        for chunk in chunks(keys, 500):
            marks = ",".join("?" * len(chunk))
            for row in self.db.conn.execute(f"SELECT * FROM llm_cache WHERE key IN ({marks})", chunk):
                item = dict(row)
                item["response"] = json.loads(item["response"])
                out[item["key"]] = item
        return out

    def record(self, cache_entries: list[dict[str, Any]], usage: list[dict[str, Any]]) -> None:
        """Cache valid answers and log the requests that produced them, in one transaction: after a crash
        the ledger and the cache agree."""
        if not cache_entries and not usage:
            return
        now = connection.utcnow()
        conn = self.db.conn
        with self.db.transaction():
            conn.executemany(
                """INSERT OR REPLACE INTO llm_cache (key, paper_id, content_hash, prompt_version, model, lang, response,
                   requests, input_tokens, output_tokens, cost, created_at)
                   VALUES (:key, :paper_id, :content_hash, :prompt_version, :model, :lang, :response_json,
                   :requests, :input_tokens, :output_tokens, :cost, :created_at)""",
                [{**e, "response_json": json.dumps(e["response"], ensure_ascii=False)} for e in cache_entries],
            )
            conn.executemany(
                """INSERT INTO llm_usage (paper_id, model, lang, kind, status, input_tokens, output_tokens, cost, at)
                   VALUES (:paper_id, :model, :lang, :kind, :status, :input_tokens, :output_tokens, :cost, :at)""",
                [{"at": now, **r} for r in usage],
            )

    def stats(self) -> dict[str, Any]:
        """Every request sent to an LLM endpoint (the usage ledger) and the responses cached."""
        conn = self.db.conn
        requests, ok, inp, out, cost = conn.execute(
            "SELECT count(*), coalesce(sum(status = 'ok'), 0), coalesce(sum(input_tokens), 0), "
            "coalesce(sum(output_tokens), 0), coalesce(sum(cost), 0) FROM llm_usage").fetchone()
        by_model = {m: {"requests": n, "input_tokens": i, "output_tokens": o, "estimated_cost": round(c, 6)}
                    for m, n, i, o, c in conn.execute(
                        "SELECT model, count(*), sum(input_tokens), sum(output_tokens), sum(cost) FROM llm_usage "
                        "GROUP BY model ORDER BY 2 DESC")}
        return {
            "requests": requests, "valid_responses": ok, "input_tokens": inp, "output_tokens": out,
            "estimated_cost": round(cost, 6),
            "cached_responses": scalar(conn, "SELECT count(*) FROM llm_cache"),
            "by_model": by_model,
        }
