"""Where watches, alerts and the scan ledger live: ``<home>/watch/``.

* ``watches.json`` — the saved watches, rewritten atomically (temporary file, fsync,
  rename) under a file lock, so a crash or a second process never leaves half a list.
* ``alerts.sqlite3`` — alerts, with ``UNIQUE(watch, dataset, release, shard, row)``: a row
  is recorded once per watch however often ingest, fingerprint or ``watch run`` repeat,
  which is what "alert once" rests on (not on the ledger below); the scan ledger (which
  shards of which release each watch has compared, per stage) so a run compares only new
  rows; and the gaps (releases an image or face watch could not compare). Each alert and
  gap remembers when it was e-mailed and posted, so a failed notification is retried by
  the next run and a sent one is never sent again.

Why SQLite and not JSON for alerts: a watch on a domain can match millions of rows of a
LAION-sized release; inserting with ``INSERT OR IGNORE`` on a unique index stays cheap and
transactional where rewriting a JSON file would not.
"""

from __future__ import annotations

import fcntl
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from traindex.core.coverage import ReleaseCoverage
from traindex.core.files import write_atomic
from traindex.core.matches import Match
from traindex.errors import InputError
from traindex.watch.model import Alert, Gap, Watch

__all__ = ["Channel", "WatchStore"]

Channel = Literal["email", "webhook"]
_SENT = {"email": "emailed_at", "webhook": "posted_at"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, watch_id TEXT NOT NULL, dataset TEXT NOT NULL,
  release TEXT NOT NULL, shard TEXT NOT NULL, row INTEGER NOT NULL, match TEXT NOT NULL,
  found_at TEXT NOT NULL, emailed_at TEXT, posted_at TEXT,
  UNIQUE (watch_id, dataset, release, shard, row));
CREATE TABLE IF NOT EXISTS scanned (
  watch_id TEXT NOT NULL, dataset TEXT NOT NULL, release TEXT NOT NULL, stage TEXT NOT NULL,
  shard_id INTEGER NOT NULL, PRIMARY KEY (watch_id, dataset, release, stage, shard_id));
CREATE TABLE IF NOT EXISTS gaps (
  watch_id TEXT NOT NULL, dataset TEXT NOT NULL, release TEXT NOT NULL, state TEXT NOT NULL,
  coverage TEXT NOT NULL, signals TEXT NOT NULL, updated_at TEXT NOT NULL,
  emailed_at TEXT, posted_at TEXT, PRIMARY KEY (watch_id, dataset, release));
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class WatchStore:
    """Watches, alerts, gaps and the scan ledger of one traindex home."""

    def __init__(self, home: Path) -> None:
        self.dir = home / "watch"
        self.watches_path = self.dir / "watches.json"
        self.db_path = self.dir / "alerts.sqlite3"

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One writer at a time across processes (an ingest hook and a ``watch run``)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with (self.dir / ".lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.db_path, timeout=60)) as conn:
            conn.executescript(_SCHEMA)
            with conn:  # one transaction: committed on success, rolled back on error
                yield conn

    # watches ------------------------------------------------------------------------------

    def watches(self) -> list[Watch]:
        if not self.watches_path.exists():
            return []
        data = json.loads(self.watches_path.read_text(encoding="utf-8"))
        return [Watch.from_json(w) for w in data["watches"]]

    def get(self, watch_id: str) -> Watch:
        found = next((w for w in self.watches() if w.id == watch_id), None)
        if found is None:
            raise InputError(f"no watch {watch_id[:40]!r} (traindex watch list shows them)")
        return found

    def _save(self, watches: Sequence[Watch]) -> None:
        body = {"watches": [w.to_json() for w in watches]}
        write_atomic(self.watches_path, json.dumps(body, indent=2).encode())

    def add(self, watch: Watch) -> None:
        with self.lock():
            self._save([*self.watches(), watch])

    def update(self, watch_id: str, change: Callable[[Watch], Watch]) -> Watch:
        """Replace a watch by ``change(watch)`` (same id), under the lock: its alerts, gaps
        and scan ledger stay as they are."""
        with self.lock():
            changed = change(self.get(watch_id))
            self._save([changed if w.id == watch_id else w for w in self.watches()])
        return changed

    def remove(self, watch_id: str) -> Watch:
        """Forget a watch and everything it found."""
        with self.lock():
            watch = self.get(watch_id)
            self._save([w for w in self.watches() if w.id != watch_id])
            with self._db() as conn:
                for table in ("alerts", "scanned", "gaps"):
                    conn.execute(f"DELETE FROM {table} WHERE watch_id = ?", (watch_id,))
        return watch

    # scan ledger --------------------------------------------------------------------------

    def scanned(self, watch_id: str, dataset: str, release: str, stage: str) -> set[int]:
        with self._db() as conn:
            rows = conn.execute(
                "SELECT shard_id FROM scanned WHERE watch_id=? AND dataset=? AND release=? "
                "AND stage=?",
                (watch_id, dataset, release, stage),
            ).fetchall()
        return {int(r[0]) for r in rows}

    def mark_scanned(
        self, watch_id: str, dataset: str, release: str, stage: str, shards: Iterable[int]
    ) -> None:
        with self._db() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO scanned VALUES (?, ?, ?, ?, ?)",
                [(watch_id, dataset, release, stage, s) for s in shards],
            )

    # alerts -------------------------------------------------------------------------------

    def add_alerts(self, watch_id: str, matches: Iterable[Match]) -> int:
        """Record each match's row once for this watch; returns how many were new."""
        now = _now()
        rows = [
            (watch_id, m.dataset, m.release, m.shard, m.row, json.dumps(m.to_json()), now)
            for m in matches
        ]
        with self._db() as conn:
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO alerts (watch_id, dataset, release, shard, row, match, "
                "found_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            return conn.total_changes - before

    def alerts(
        self, watch_ids: Sequence[str] | None = None, *, unsent: Channel | None = None
    ) -> list[Alert]:
        """Alerts of these watches (all by default), oldest first; ``unsent``: only those
        not yet sent on that channel."""
        sql, args = "SELECT id, watch_id, match, found_at FROM alerts", list[str]()
        where = []
        if watch_ids is not None:
            where.append(f"watch_id IN ({','.join('?' * len(watch_ids))})")
            args.extend(watch_ids)
        if unsent is not None:
            where.append(f"{_SENT[unsent]} IS NULL")
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._db() as conn:
            rows = conn.execute(sql + " ORDER BY id", args).fetchall()
        return [Alert(int(i), str(w), json.loads(m), str(t)) for i, w, m, t in rows]

    def alert(self, alert_id: int) -> Alert:
        with self._db() as conn:
            row = conn.execute(
                "SELECT id, watch_id, match, found_at FROM alerts WHERE id=?", (alert_id,)
            ).fetchone()
        if row is None:
            raise InputError(f"no alert {alert_id}")
        return Alert(int(row[0]), str(row[1]), json.loads(row[2]), str(row[3]))

    # gaps ---------------------------------------------------------------------------------

    def set_gap(self, watch_id: str, coverage: ReleaseCoverage, signals: tuple[str, ...]) -> None:
        """Remember what the watch could not compare in a release (forgotten once it can):
        a changed state counts as new, so it is notified again."""
        key = (watch_id, coverage.dataset, coverage.release)
        state = coverage.state(signals)
        with self._db() as conn:
            if state == "searched":
                conn.execute("DELETE FROM gaps WHERE watch_id=? AND dataset=? AND release=?", key)
                return
            old = conn.execute(
                "SELECT state FROM gaps WHERE watch_id=? AND dataset=? AND release=?", key
            ).fetchone()
            cov = json.dumps(coverage.to_json(signals))
            if old is not None and old[0] == state:
                conn.execute(
                    "UPDATE gaps SET coverage=?, updated_at=? WHERE watch_id=? AND dataset=? "
                    "AND release=?",
                    (cov, _now(), *key),
                )
                return
            conn.execute(
                "INSERT OR REPLACE INTO gaps (watch_id, dataset, release, state, coverage, "
                "signals, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (*key, state, cov, json.dumps(list(signals)), _now()),
            )

    def gaps(
        self, watch_ids: Sequence[str] | None = None, *, unsent: Channel | None = None
    ) -> list[Gap]:
        sql = "SELECT watch_id, coverage, signals, updated_at, dataset, release FROM gaps"
        with self._db() as conn:
            rows = conn.execute(
                sql + ("" if unsent is None else f" WHERE {_SENT[unsent]} IS NULL")
                + " ORDER BY dataset, release"
            ).fetchall()  # fmt: skip
        gaps = [
            Gap(str(w), ReleaseCoverage.from_json(json.loads(c)), tuple(json.loads(s)), str(t))
            for w, c, s, t, _, _ in rows
        ]
        return [g for g in gaps if watch_ids is None or g.watch_id in watch_ids]

    # notifications ------------------------------------------------------------------------

    def mark_sent(self, channel: Channel, alerts: Iterable[Alert], gaps: Iterable[Gap]) -> None:
        now, column = _now(), _SENT[channel]
        with self._db() as conn:
            conn.executemany(
                f"UPDATE alerts SET {column}=? WHERE id=?",
                [(now, a.id) for a in alerts],
            )
            conn.executemany(
                f"UPDATE gaps SET {column}=? WHERE watch_id=? AND dataset=? AND release=?",
                [(now, g.watch_id, g.coverage.dataset, g.coverage.release) for g in gaps],
            )

    def summary(self) -> dict[str, Any]:
        """Per watch: how many alerts and gaps (for ``watch list``)."""
        with self._db() as conn:
            alerts = dict(conn.execute("SELECT watch_id, COUNT(*) FROM alerts GROUP BY watch_id"))
            gaps = dict(conn.execute("SELECT watch_id, COUNT(*) FROM gaps GROUP BY watch_id"))
        return {"alerts": alerts, "gaps": gaps}
