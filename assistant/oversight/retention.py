"""Retention: old turns are deleted, with their feedback and citations and any session left empty, in one
transaction, so a failed purge leaves nothing half-deleted. The statistics' rollups and the search index lose
the purged turns' contributions in that same transaction, through the 0005 triggers on each deleted row.

"Before DATE" means created before 00:00 of that local (UTC+8) day. PA_RETENTION_DAYS=N keeps the last N
days: the API purges at start-up and every 24 hours (`RetentionThread`), and
``policy-assistant purge --older-than-retention`` does the same once.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, and_, delete, exists, select, tuple_

from assistant.oversight.derive import LOCAL_TZ, day_start_utc
from assistant.settings import Settings
from assistant.tables import feedback_table, sessions_table, turn_citations_table, turns_table

log = logging.getLogger(__name__)
PURGE_INTERVAL_S = 24 * 3600
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_T, _F, _C, _S = turns_table.c, feedback_table.c, turn_citations_table.c, sessions_table.c


@dataclass
class PurgeResult:
    before: date
    turns: int
    feedback: int
    citations: int
    sessions: int

    def render(self) -> str:
        return (
            f"已删除 {self.before.isoformat()} 之前的 {self.turns} 轮对话、{self.feedback} 条评价、"
            f"{self.citations} 条引用记录、{self.sessions} 个空会话。"
        )


def purge_before(engine: Engine, before: date) -> PurgeResult:
    cutoff = day_start_utc(before)
    old = select(_T.session_id, _T.idx).where(_T.created_at < cutoff)
    with engine.connect() as conn:
        # pa_write: on SQLite the store's engine then opens BEGIN IMMEDIATE (the write lock up front)
        conn = conn.execution_options(pa_write=True)
        with conn.begin():
            feedback = conn.execute(delete(feedback_table).where(tuple_(_F.session_id, _F.turn).in_(old))).rowcount
            citations = conn.execute(
                delete(turn_citations_table).where(tuple_(_C.session_id, _C.turn).in_(old))
            ).rowcount
            turns = conn.execute(delete(turns_table).where(_T.created_at < cutoff)).rowcount
            empty = ~exists().where(_T.session_id == _S.id)
            sessions = conn.execute(delete(sessions_table).where(and_(_S.created_at < cutoff, empty))).rowcount
    return PurgeResult(before, turns, feedback, citations, sessions)


def retention_cutoff(days: int, today: date | None = None) -> date:
    """Keeping N days keeps today and the N-1 days before it."""
    today = today or datetime.now(LOCAL_TZ).date()
    return today - timedelta(days=days - 1)


def purge_expired(engine: Engine, days: int, today: date | None = None) -> PurgeResult | None:
    if days <= 0:
        return None
    return purge_before(engine, retention_cutoff(days, today))


def parse_day(text: str) -> date:
    """Strictly YYYY-MM-DD (``date.fromisoformat`` would also take 20250301 or 2025-W09-6)."""
    if not _DAY.fullmatch(text.strip()):
        raise ValueError(f"日期应为 YYYY-MM-DD，例如 2025-01-31，收到 {text!r}")
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"没有这一天：{text!r}") from None


def purge_configured(settings: Settings, before: date | None) -> PurgeResult:
    """`policy-assistant purge`: before a date, or (``before`` None) what PA_RETENTION_DAYS says is expired."""
    from assistant.sql_store import SqlStore

    if before is None and settings.retention_days <= 0:
        raise ValueError("PA_RETENTION_DAYS 未设置（0 = 永久保留）；请用 --before YYYY-MM-DD 指定日期。")
    url = settings.resolved_database_url
    if url.strip().lower() in ("memory", "memory://"):
        raise ValueError("PA_DATABASE_URL=memory 不保存对话，无可清理的数据。")
    store = SqlStore(url, synchronous=settings.sqlite_synchronous)
    try:
        return purge_before(store.engine, before or retention_cutoff(settings.retention_days))
    finally:
        store.close()


class RetentionThread(threading.Thread):
    """Purges now and then every `PURGE_INTERVAL_S` while the API runs. ``engine()`` returns None until the
    store is ready (the API loads it in the background) or when it is not a SQL store."""

    def __init__(self, engine: Callable[[], Engine | None], days: int, interval_s: float = PURGE_INTERVAL_S) -> None:
        super().__init__(name="policy-assistant-retention", daemon=True)
        self._engine = engine
        self.days = days
        self.interval_s = interval_s
        self.stopped = threading.Event()
        self.last: PurgeResult | None = None

    def run(self) -> None:
        wait = 1.0
        while not self.stopped.is_set():
            engine = self._engine()
            if engine is None:  # not loaded yet
                self.stopped.wait(wait)
                continue
            try:
                self.last = purge_expired(engine, self.days)
            except Exception:
                log.exception("retention purge failed")
            else:
                if self.last is not None:
                    log.info("retention purge: %s", self.last.render())
            self.stopped.wait(self.interval_s)

    def stop(self) -> None:
        self.stopped.set()
