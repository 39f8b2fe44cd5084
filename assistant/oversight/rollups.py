"""The per-day rollups statistics read (tables in `assistant.tables`), kept exact by database triggers.

Why triggers and not writes in `SqlStore`: every path that changes a turn keeps the rollups right without
knowing about them: the store's replies and votes (an upserted vote that flips 赞→踩 moves the count), a
reply written again for the same turn, the retention purge, the FK cascades, a one-off fix in SQL, the
0004 backfill. They run inside the writing statement, so a rollup never disagrees with a committed turn.

Each trigger body is plain SQL that SQLite and PostgreSQL both accept (``NEW.col`` / ``OLD.col``, INSERT …
ON CONFLICT DO UPDATE); SQLite runs it as a trigger body, PostgreSQL as a PL/pgSQL trigger function.
`backfill` rebuilds every rollup from the base tables with set-based INSERT … SELECT … GROUP BY (the 0005
migration, the benchmark's bulk load, and the tests' from-scratch comparison).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from assistant.tables import LATENCY_BUCKET_MS, ROLLUP_TABLES

_ANSWER_TYPE = "COALESCE({r}.answer_type, '')"
_DAILY = {
    "day": "{r}.day",
    "answer_type": _ANSWER_TYPE,
    "mode": "COALESCE({r}.mode, '')",
    "unspecified": "COALESCE({r}.unspecified, false)",
    "fallback": "COALESCE({r}.fallback, false)",
}
_LATENCY = {"day": "{r}.day", "bucket": f"{{r}}.latency_ms / {LATENCY_BUCKET_MS}"}
_TOPIC = {"day": "{r}.day", "clause_id": "{r}.primary_clause"}
_CLAUSE = {"day": "{r}.day", "clause_id": "{r}.clause_id"}
# A vote counts on its turn's day; the turn is still there when its feedback goes (turns_delete_feedback).
_VOTE_DAY = "(SELECT t.day FROM turns t WHERE t.session_id = {r}.session_id AND t.idx = {r}.turn)"
_VOTE = {"day": _VOTE_DAY, "rating": "{r}.rating"}
_TURN_VOTE = {
    "day": "{r}.day",
    "rating": "(SELECT f.rating FROM feedback f WHERE f.session_id = {r}.session_id AND f.turn = {r}.idx)",
}


def _fill(parts: dict[str, str], r: str) -> dict[str, str]:
    return {column: expr.format(r=r) for column, expr in parts.items()}


def _add(table: str, parts: dict[str, str], r: str) -> list[str]:
    """Count one more row under ``parts`` (evaluated on ``r``, NEW or OLD); nothing if any part is NULL."""
    values = _fill(parts, r)
    cond = " AND ".join(f"{v} IS NOT NULL" for v in values.values())
    cols = ", ".join(values)
    return [
        f"INSERT INTO {table} ({cols}, n) SELECT {', '.join(values.values())}, 1 WHERE {cond} "
        f"ON CONFLICT ({cols}) DO UPDATE SET n = {table}.n + 1"
    ]


def _sub(table: str, parts: dict[str, str], r: str) -> list[str]:
    """Count one row less; a count that reaches 0 is deleted (a clause with no citations left is no top clause)."""
    where = " AND ".join(f"{c} = {v}" for c, v in _fill(parts, r).items())
    return [f"UPDATE {table} SET n = n - 1 WHERE {where}", f"DELETE FROM {table} WHERE {where} AND n <= 0"]


def _enter(table: str, key: str, value: str, r: str) -> list[str]:
    """``value`` had a turn on ``r.day``: count it, and keep the prev_day chain through the new day."""
    k, d = value.format(r=r), f"{r}.day"
    this = f"{key} = {k} AND day = {d}"
    return [
        f"INSERT INTO {table} ({key}, day, n, prev_day) SELECT {k}, {d}, 0, "
        f"(SELECT max(p.day) FROM {table} p WHERE p.{key} = {k} AND p.day < {d}) "
        f"WHERE {k} IS NOT NULL AND {d} IS NOT NULL ON CONFLICT ({key}, day) DO NOTHING",
        f"UPDATE {table} SET prev_day = {d} WHERE {key} = {k} AND (prev_day IS NULL OR prev_day < {d}) "
        f"AND day = (SELECT min(x.day) FROM {table} x WHERE x.{key} = {k} AND x.day > {d})",
        f"UPDATE {table} SET n = n + 1 WHERE {this}",
    ]


def _leave(table: str, key: str, value: str, r: str) -> list[str]:
    """One turn of ``value`` on ``r.day`` less; the day's last one unlinks the day from the prev_day chain."""
    k, d = value.format(r=r), f"{r}.day"
    this = f"{key} = {k} AND day = {d}"
    return [
        f"UPDATE {table} SET n = n - 1 WHERE {this}",
        f"UPDATE {table} SET prev_day = (SELECT g.prev_day FROM {table} g WHERE g.{key} = {k} AND g.day = {d}) "
        f"WHERE {key} = {k} AND day = (SELECT min(x.day) FROM {table} x WHERE x.{key} = {k} AND x.day > {d}) "
        f"AND EXISTS (SELECT 1 FROM {table} e WHERE e.{key} = {k} AND e.day = {d} AND e.n <= 0)",
        f"DELETE FROM {table} WHERE {this} AND n <= 0",
    ]


def _turn_facts(r: str, add: bool) -> list[str]:
    step = _add if add else _sub
    return [*step("stats_daily", _DAILY, r), *step("stats_latency", _LATENCY, r), *step("stats_topics", _TOPIC, r)]


def _turn_actors(r: str, add: bool) -> list[str]:
    step = _enter if add else _leave
    return [*step("session_days", "session_id", "{r}.session_id", r), *step("user_days", "user_id", "{r}.user_id", r)]


@dataclass(frozen=True)
class Trigger:
    name: str
    timing: str  # BEFORE / AFTER
    event: str  # INSERT, DELETE, UPDATE OF a, b
    table: str
    body: list[str]
    changed: tuple[str, ...] = ()  # fire only when one of these columns changed value (NULL-safe)
    #: PostgreSQL only, first: serialize a user's writes so two sessions of one user cannot both
    #: link a new day into user_days' prev_day chain from stale reads (SQLite has one writer anyway).
    pg_lock: str | None = None


_USER_LOCK = "PERFORM pg_advisory_xact_lock(hashtext('user_days:' || {r}.user_id)) WHERE {r}.user_id IS NOT NULL"
_FACT_COLUMNS = ("day", "answer_type", "mode", "unspecified", "fallback", "latency_ms", "primary_clause")
_ACTOR_COLUMNS = ("day", "session_id", "user_id")

TRIGGERS = (
    Trigger("turns_rollup_insert", "AFTER", "INSERT", "turns", _turn_facts("NEW", True) + _turn_actors("NEW", True),
            pg_lock=_USER_LOCK.format(r="NEW")),
    Trigger("turns_rollup_facts", "AFTER", "UPDATE OF " + ", ".join(_FACT_COLUMNS), "turns",
            _turn_facts("OLD", False) + _turn_facts("NEW", True), changed=_FACT_COLUMNS),
    Trigger("turns_rollup_actors", "AFTER", "UPDATE OF " + ", ".join(_ACTOR_COLUMNS), "turns",
            _turn_actors("OLD", False) + _turn_actors("NEW", True)
            + _sub("stats_votes", _TURN_VOTE, "OLD") + _add("stats_votes", _TURN_VOTE, "NEW"),
            changed=_ACTOR_COLUMNS, pg_lock=_USER_LOCK.format(r="NEW")),
    # Before the turn goes, its vote goes (through feedback's trigger, which still finds the turn's day).
    Trigger("turns_delete_feedback", "BEFORE", "DELETE", "turns",
            ["DELETE FROM feedback WHERE session_id = OLD.session_id AND turn = OLD.idx"]),
    Trigger("turns_rollup_delete", "AFTER", "DELETE", "turns", _turn_facts("OLD", False) + _turn_actors("OLD", False),
            pg_lock=_USER_LOCK.format(r="OLD")),
    Trigger("feedback_rollup_insert", "AFTER", "INSERT", "feedback", _add("stats_votes", _VOTE, "NEW")),
    Trigger("feedback_rollup_update", "AFTER", "UPDATE OF rating, session_id, turn", "feedback",
            _sub("stats_votes", _VOTE, "OLD") + _add("stats_votes", _VOTE, "NEW"),
            changed=("rating", "session_id", "turn")),
    Trigger("feedback_rollup_delete", "AFTER", "DELETE", "feedback", _sub("stats_votes", _VOTE, "OLD")),
    Trigger("citations_rollup_insert", "AFTER", "INSERT", "turn_citations", _add("stats_clauses", _CLAUSE, "NEW")),
    Trigger("citations_rollup_update", "AFTER", "UPDATE OF day, clause_id", "turn_citations",
            _sub("stats_clauses", _CLAUSE, "OLD") + _add("stats_clauses", _CLAUSE, "NEW"),
            changed=("day", "clause_id")),
    Trigger("citations_rollup_delete", "AFTER", "DELETE", "turn_citations", _sub("stats_clauses", _CLAUSE, "OLD")),
)  # fmt: skip


def _changed(columns: tuple[str, ...], dialect: str) -> str:
    op = "IS NOT" if dialect == "sqlite" else "IS DISTINCT FROM"
    return " OR ".join(f"OLD.{c} {op} NEW.{c}" for c in columns)


def trigger_ddl(trigger: Trigger, dialect: str) -> list[str]:
    when = _changed(trigger.changed, dialect) if trigger.changed else None
    if dialect == "sqlite":
        head = f"CREATE TRIGGER {trigger.name} {trigger.timing} {trigger.event} ON {trigger.table} FOR EACH ROW"
        return [f"{head}{f' WHEN {when}' if when else ''} BEGIN {'; '.join(trigger.body)}; END"]
    body = ([trigger.pg_lock] if trigger.pg_lock else []) + trigger.body
    result = "OLD" if trigger.timing == "BEFORE" else "NULL"
    return [
        f"CREATE FUNCTION {trigger.name}() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN "
        f"{'; '.join(body)}; RETURN {result}; END $fn$",
        f"CREATE TRIGGER {trigger.name} {trigger.timing} {trigger.event} ON {trigger.table} FOR EACH ROW"
        f"{f' WHEN ({when})' if when else ''} EXECUTE FUNCTION {trigger.name}()",
    ]


def create_triggers(conn: Connection) -> None:
    for trigger in TRIGGERS:
        for statement in trigger_ddl(trigger, conn.dialect.name):
            conn.exec_driver_sql(statement)


def drop_triggers(conn: Connection) -> None:
    for trigger in TRIGGERS:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger.name}")
        else:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger.name} ON {trigger.table}")
            conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {trigger.name}()")


def _actor_days(table: str, key: str) -> str:
    return (
        f"INSERT INTO {table} ({key}, day, n, prev_day) "
        f"SELECT {key}, day, n, LAG(day) OVER (PARTITION BY {key} ORDER BY day) FROM "
        f"(SELECT {key}, day, count(*) AS n FROM turns WHERE {key} IS NOT NULL AND day IS NOT NULL "
        f"GROUP BY {key}, day) g"
    )


BACKFILL = (
    "INSERT INTO stats_daily (day, answer_type, mode, unspecified, fallback, n) "
    f"SELECT {', '.join(_fill(_DAILY, 'turns').values())}, count(*) FROM turns WHERE day IS NOT NULL "
    "GROUP BY 1, 2, 3, 4, 5",
    f"INSERT INTO stats_latency (day, bucket, n) SELECT day, latency_ms / {LATENCY_BUCKET_MS}, count(*) FROM turns "
    "WHERE day IS NOT NULL AND latency_ms IS NOT NULL GROUP BY 1, 2",
    "INSERT INTO stats_topics (day, clause_id, n) SELECT day, primary_clause, count(*) FROM turns "
    "WHERE day IS NOT NULL AND primary_clause IS NOT NULL GROUP BY 1, 2",
    "INSERT INTO stats_clauses (day, clause_id, n) SELECT day, clause_id, count(*) FROM turn_citations "
    "WHERE day IS NOT NULL GROUP BY 1, 2",
    "INSERT INTO stats_votes (day, rating, n) SELECT t.day, f.rating, count(*) FROM feedback f "
    "JOIN turns t ON t.session_id = f.session_id AND t.idx = f.turn WHERE t.day IS NOT NULL GROUP BY 1, 2",
    _actor_days("session_days", "session_id"),
    _actor_days("user_days", "user_id"),
)


def backfill(conn: Connection) -> None:
    """Empty the rollups and rebuild them from turns, feedback and turn_citations (set-based)."""
    for table in ROLLUP_TABLES:
        conn.execute(table.delete())
    for statement in BACKFILL:
        conn.execute(text(statement))
