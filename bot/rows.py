"""Single-row SQL for the chat's hot path: a shopper's turn runs these on every message.

On this project's CPUs the ORM spends about 0.2-0.7 ms of Python per statement compiling it
(a select_related lookup with .first() costs 1.2 ms where the same SQL through a cursor costs
0.3 ms). A turn runs about eight statements, so that is a third of a reply's latency. These
helpers write the SQL once per shape, from the models' own table and column names, and let
each field convert its value for the backend (get_db_prep_save): SQLite and PostgreSQL alike.
Everything else in the project uses the ORM.
"""

from __future__ import annotations

from functools import lru_cache

from django.db import connection


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


@lru_cache(maxsize=64)
def _insert_sql(vendor: str, table: str, columns: tuple[str, ...], pk_column: str, returning: bool) -> str:
    sql = f"INSERT INTO {_qn(table)} ({', '.join(_qn(c) for c in columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    return f"{sql} RETURNING {_qn(pk_column)}" if returning else sql


def insert(model, values: dict) -> int:
    """INSERT one row of `model` (values by field name; foreign keys by their pk). Returns the pk."""
    meta = model._meta
    fields = [meta.get_field(name) for name in values]
    returning = connection.features.can_return_columns_from_insert
    sql = _insert_sql(connection.vendor, meta.db_table, tuple(f.column for f in fields), meta.pk.column, returning)
    params = [f.get_db_prep_save(values[f.name], connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0] if returning else cursor.lastrowid


def insert_then_fetch(model, values: dict, other, *, where: dict, among: dict | None = None):
    """PostgreSQL: INSERT one row of `model` and read one row of `other` (as fetch does) in one
    statement. Returns (the new pk, the `other` row or None)."""
    meta = model._meta
    fields = [meta.get_field(name) for name in values]
    insert_sql = _insert_sql(connection.vendor, meta.db_table, tuple(f.column for f in fields), meta.pk.column, True)
    params = [f.get_db_prep_save(values[f.name], connection) for f in fields]
    ometa = other._meta
    columns = ", ".join(f"o.{_qn(f.column)}" for f in ometa.concrete_fields)
    clauses, where_params = _where(ometa, where, among, alias="o.")
    sql = (
        f"WITH ins AS ({insert_sql}) SELECT ins.{_qn(meta.pk.column)} AS inserted_pk, {columns} "
        f"FROM ins LEFT JOIN {_qn(ometa.db_table)} o ON {clauses}"
    )
    (row,) = list(other.objects.raw(sql, params + where_params))
    return row.inserted_pk, (row if row.pk is not None else None)


def update(model, pk, values: dict) -> int:
    """UPDATE the row `pk` of `model`. Returns 0 or 1."""
    return _update(model._meta, pk, [], [], values)


def json_merge(model, pk, field_name: str, patch: dict, *, also: dict | None = None, exclude: dict | None = None) -> int:
    """PostgreSQL only: field = field || patch (top-level keys), plus the plain values in `also`,
    unless a column equals its value in `exclude`; one UPDATE. Returns 0 or 1."""
    field = model._meta.get_field(field_name)
    merge = f"{_qn(field.column)} = {_qn(field.column)} || %s"
    return _update(model._meta, pk, [merge], [field.get_db_prep_save(patch, connection)], also or {}, exclude or {})


def _update(meta, pk, sets: list[str], params: list, values: dict, exclude: dict | None = None) -> int:
    """UPDATE ... SET `sets` and `values` WHERE pk = `pk` AND each `exclude` column differs."""
    sets, params = list(sets), list(params)
    for name, value in values.items():
        field = meta.get_field(name)
        sets.append(f"{_qn(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    where = f"{_qn(meta.pk.column)} = %s"
    params.append(pk)
    for name, value in (exclude or {}).items():
        field = meta.get_field(name)
        where += f" AND {_qn(field.column)} <> %s"
        params.append(field.get_db_prep_save(value, connection))
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {_qn(meta.db_table)} SET {', '.join(sets)} WHERE {where}", params)
        return cursor.rowcount


def fetch(model, *, where: dict, among: dict | None = None):
    """The row of `model` where every column equals `where` (and is one of `among`), or None.

    Read through a raw query, so each field's own converters (JSON, UUID, dates) apply.
    """
    meta = model._meta
    columns = ", ".join(_qn(f.column) for f in meta.concrete_fields)
    clauses, params = _where(meta, where, among)
    rows = list(model.objects.raw(f"SELECT {columns} FROM {_qn(meta.db_table)} WHERE {clauses}", params))
    return rows[0] if rows else None


def _where(meta, where: dict, among: dict | None, alias: str = "") -> tuple[str, list]:
    """`col = %s` for each of `where` and `col IN (...)` for each of `among`, ANDed, with params."""
    clauses, params = [], []
    for name, value in where.items():
        field = meta.get_field(name)
        clauses.append(f"{alias}{_qn(field.column)} = %s")
        params.append(field.get_db_prep_value(value, connection))
    for name, choices in (among or {}).items():
        field = meta.get_field(name)
        clauses.append(f"{alias}{_qn(field.column)} IN ({', '.join(['%s'] * len(choices))})")
        params.extend(field.get_db_prep_value(v, connection) for v in choices)
    return " AND ".join(clauses), params


def as_stored(instance, pk):
    """An instance built in Python for a row just written by SQL here: give it the row's pk and
    mark it as loaded from the database, as the ORM's own create would."""
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


def turn_finish_pg(*, message_id: int, annotation: dict, conversation_id: int, state_patch: dict, not_status: str,
                   reply: dict) -> int | None:
    """PostgreSQL: one statement (data-modifying CTEs, one transaction) that annotates the
    shopper's message, merges the conversation's state (jsonb ||) unless its status is
    `not_status`, and inserts the bot's reply only when the merge happened.
    Returns the reply's id, or None when the conversation had `not_status`.
    """
    from .models import Conversation, Message

    m, c = Message._meta, Conversation._meta
    col = {name: _qn(m.get_field(name).column) for name in ("intent", "confidence", "data", "conversation", "sender", "text", "created_at", "reply_seconds")}
    ccol = {name: _qn(c.get_field(name).column) for name in ("state", "updated_at", "status")}
    mf = {name: m.get_field(name) for name in ("confidence", "data", "created_at", "intent")}
    sql = (
        f"WITH annotated AS (UPDATE {_qn(m.db_table)} SET {col['intent']} = %s, {col['confidence']} = %s, {col['data']} = %s "
        f"WHERE {_qn(m.pk.column)} = %s), "
        f"merged AS (UPDATE {_qn(c.db_table)} SET {ccol['state']} = {ccol['state']} || %s, {ccol['updated_at']} = %s "
        f"WHERE {_qn(c.pk.column)} = %s AND {ccol['status']} <> %s RETURNING {_qn(c.pk.column)}) "
        f"INSERT INTO {_qn(m.db_table)} ({col['conversation']}, {col['sender']}, {col['text']}, {col['intent']}, "
        f"{col['confidence']}, {col['data']}, {col['created_at']}, {col['reply_seconds']}) "
        f"SELECT merged.{_qn(c.pk.column)}, %s::varchar, %s::text, %s::varchar, %s::double precision, %s, %s, %s::double precision FROM merged "
        f"RETURNING {_qn(m.pk.column)}"
    )
    prep = lambda field, value: field.get_db_prep_save(value, connection)  # noqa: E731
    params = [
        prep(mf["intent"], annotation["intent"]), prep(mf["confidence"], annotation["confidence"]), prep(mf["data"], annotation["data"]),
        message_id,
        prep(c.get_field("state"), state_patch), prep(c.get_field("updated_at"), reply["created_at"]), conversation_id, not_status,
        reply["sender"], reply["text"], reply["intent"], prep(mf["confidence"], reply["confidence"]), prep(mf["data"], reply["data"]),
        prep(mf["created_at"], reply["created_at"]), reply.get("reply_seconds"),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None
