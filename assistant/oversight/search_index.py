"""The trigram index behind the turn list's text filter (``q``), so a rare word does not read every reply.

The filter is, and stays, a case-insensitive substring match on the question and on the answer part of the
stored reply (`turns.AnswerText`). The index only narrows the rows that match is tested on:

* PostgreSQL: pg_trgm GIN indexes on ``message`` and on the AnswerText expression; the filter's ILIKE uses
  them as it is (a pattern of 3+ characters).
* SQLite: an FTS5 ``trigram`` table over the same two texts, written by triggers on ``turns``. It is
  contentless (the texts already live in ``turns``) with ``detail=none`` (no positions: a third of the
  size), so it answers "holds every trigram of the query", a superset of the substring matches; the LIKE
  still decides. Its rowids are ``turn_search.id``, an INTEGER PRIMARY KEY, because VACUUM may renumber the
  implicit rowids of ``turns``. Queries under 3 characters have no trigram and scan as before.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, column, func, select, table

#: Above this many candidates the rows are dense enough that walking newest-first finds a page sooner than
#: fetching and sorting every candidate (a common word); at 1M turns the walk is then a few ms.
CANDIDATE_CAP = 10_000  # policy-literal: ok (a row count, not money)
ANSWER_END = '","answer_type":"'
MIN_CHARS = 3  # a trigram index knows nothing shorter
_SQLITE_ANSWER = "substr({r}.response_json, 1, instr({r}.response_json, '" + ANSWER_END + "'))"
_PG_ANSWER = "substr(response_json, 1, strpos(response_json, '" + ANSWER_END + "'))"
_FTS_ID = "(SELECT s.id FROM turn_search s WHERE s.session_id = {r}.session_id AND s.turn = {r}.idx)"


def _fts_add(r: str) -> str:
    return (
        f"INSERT INTO turns_fts (rowid, message, answer) "
        f"VALUES ({_FTS_ID.format(r=r)}, {r}.message, {_SQLITE_ANSWER.format(r=r)})"
    )


def _fts_remove(r: str) -> str:
    # A contentless FTS5 row is removed by repeating exactly the values it was indexed with.
    return (
        f"INSERT INTO turns_fts (turns_fts, rowid, message, answer) "
        f"VALUES ('delete', {_FTS_ID.format(r=r)}, {r}.message, {_SQLITE_ANSWER.format(r=r)})"
    )


_SQLITE_DDL = (
    "CREATE TABLE turn_search (id INTEGER PRIMARY KEY, session_id VARCHAR(128) NOT NULL, turn INTEGER NOT NULL, "
    "UNIQUE (session_id, turn))",
    "CREATE VIRTUAL TABLE turns_fts USING fts5(message, answer, content='', detail=none, columnsize=0, "
    "tokenize='trigram')",
    "CREATE TRIGGER turns_search_insert AFTER INSERT ON turns FOR EACH ROW BEGIN "
    "INSERT INTO turn_search (session_id, turn) VALUES (NEW.session_id, NEW.idx); " + _fts_add("NEW") + "; END",
    "CREATE TRIGGER turns_search_update AFTER UPDATE OF message, response_json ON turns FOR EACH ROW BEGIN "
    + _fts_remove("OLD")
    + "; "
    + _fts_add("NEW")
    + "; END",
    "CREATE TRIGGER turns_search_delete AFTER DELETE ON turns FOR EACH ROW BEGIN "
    + _fts_remove("OLD")
    + "; DELETE FROM turn_search WHERE session_id = OLD.session_id AND turn = OLD.idx; END",
)
_SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS turns_search_insert",
    "DROP TRIGGER IF EXISTS turns_search_update",
    "DROP TRIGGER IF EXISTS turns_search_delete",
    "DROP TABLE IF EXISTS turns_fts",
    "DROP TABLE IF EXISTS turn_search",
)
_PG_INDEXES = {"ix_turns_message_trgm": "message", "ix_turns_answer_trgm": f"({_PG_ANSWER})"}
#: What the search index adds outside `assistant.tables.metadata` (FTS5 keeps shadow tables; an index on an
#: expression with an operator class is left out of the metadata, which could not create it on SQLite).
PG_INDEXES = tuple(_PG_INDEXES)
SQLITE_TABLES = ("turn_search", "turns_fts", "turns_fts_data", "turns_fts_idx", "turns_fts_config")


def create(conn: Connection) -> None:
    """Create the index for the connection's database and fill it from the stored turns."""
    if conn.dialect.name == "sqlite":
        for statement in _SQLITE_DDL:
            conn.exec_driver_sql(statement)
        fill(conn)
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, expr in _PG_INDEXES.items():
            conn.exec_driver_sql(f"CREATE INDEX {name} ON turns USING gin ({expr} gin_trgm_ops)")


def fill(conn: Connection) -> None:
    """SQLite: (re)index every stored turn, set-based (the migration, and a bulk load that bypassed the triggers)."""
    conn.exec_driver_sql("INSERT INTO turns_fts (turns_fts) VALUES ('delete-all')")
    conn.exec_driver_sql("DELETE FROM turn_search")
    conn.exec_driver_sql("INSERT INTO turn_search (session_id, turn) SELECT session_id, idx FROM turns")
    conn.exec_driver_sql(
        "INSERT INTO turns_fts (rowid, message, answer) SELECT s.id, t.message, "
        f"{_SQLITE_ANSWER.format(r='t')} FROM turns t JOIN turn_search s ON s.session_id = t.session_id "
        "AND s.turn = t.idx"
    )


def drop(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for statement in _SQLITE_DROP:
            conn.exec_driver_sql(statement)
    elif conn.dialect.name == "postgresql":
        for name in _PG_INDEXES:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")


def fts_query(q: str) -> str | None:
    """The FTS5 query for substring ``q``: all its trigrams (each a quoted string), or None under 3 characters."""
    if len(q) < MIN_CHARS:
        return None
    grams = dict.fromkeys(q[i : i + MIN_CHARS] for i in range(len(q) - MIN_CHARS + 1))
    return " AND ".join('"' + g.replace('"', '""') + '"' for g in grams)


_FTS = table("turns_fts", column("rowid"), column("turns_fts"))
_SEARCH = table("turn_search", column("id"), column("session_id"), column("turn"))


def candidates(conn: Connection, q: str | None) -> Select[Any] | None:
    """SQLite: the (session_id, turn) of the turns that may contain ``q`` when there are at most
    `CANDIDATE_CAP` of them; None (filter by scanning) for other databases, short queries and common words."""
    match = fts_query(q) if q and conn.dialect.name == "sqlite" else None
    if match is None:
        return None
    ids = select(_FTS.c.rowid).where(_FTS.c.turns_fts.match(match))
    found = conn.execute(select(func.count()).select_from(ids.limit(CANDIDATE_CAP + 1).subquery())).scalar_one()
    if found > CANDIDATE_CAP:
        return None
    return select(_SEARCH.c.session_id, _SEARCH.c.turn).where(_SEARCH.c.id.in_(ids))
