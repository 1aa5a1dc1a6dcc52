"""A fingerprint of every table: its row count and a SHA-256 of its rows in primary-key order.

A backup records the fingerprints of the snapshot it dumped; the restore drill restores that backup into a scratch
database and compares, table by table, so "the backup restores" is a measured fact and not a hope.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
from typing import Any

from sqlalchemy import MetaData, Table, inspect, select
from sqlalchemy.engine import Connection

CHUNK_ROWS = 2000


def _value(h: Any, value: object) -> None:
    """Feed one value in a form both the dump and the restored copy give alike (same backend, same driver)."""
    if value is None:
        h.update(b"\x00N")
    elif isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        h.update(b"\x00B" + str(len(raw)).encode() + b":" + raw)
    elif isinstance(value, dt.datetime | dt.date | dt.time):
        h.update(b"\x00D" + value.isoformat().encode())
    elif isinstance(value, decimal.Decimal):
        h.update(b"\x00M" + str(value.normalize()).encode())
    else:
        h.update(b"\x00" + type(value).__name__[:1].encode() + repr(value).encode())


def _tables(conn: Connection) -> list[Table]:
    """The app's tables that exist in this database, reflected (the copy may predate a migration)."""
    names = sorted(n for n in inspect(conn).get_table_names() if not n.startswith("sqlite_") and "_fts" not in n)
    meta = MetaData()
    meta.reflect(conn, only=names)
    return [meta.tables[n] for n in names]


def table_fingerprints(conn: Connection) -> dict[str, dict[str, object]]:
    """``{table: {"rows": n, "sha256": hex}}`` for every table of the database ``conn`` sees."""
    out: dict[str, dict[str, object]] = {}
    for table in _tables(conn):
        order = list(table.primary_key.columns) or list(table.columns)
        h, rows = hashlib.sha256(), 0
        result = conn.execution_options(stream_results=True).execute(select(table).order_by(*order))
        for chunk in result.partitions(CHUNK_ROWS):
            for row in chunk:
                for value in row:
                    _value(h, value)
                h.update(b"\x01")
                rows += 1
        out[table.name] = {"rows": rows, "sha256": h.hexdigest()}
    return out


def differences(expected: dict[str, dict[str, object]], found: dict[str, dict[str, object]]) -> list[str]:
    """What the restored copy does not have as the backup recorded it, in Vietnamese (one line per table)."""
    problems = []
    for name in sorted(set(expected) | set(found)):
        want, got = expected.get(name), found.get(name)
        if got is None:
            problems.append(f"bảng {name}: không có trong bản khôi phục")
        elif want is None:
            problems.append(f"bảng {name}: có trong bản khôi phục nhưng không có trong bản sao lưu")
        elif want["rows"] != got["rows"]:
            problems.append(f"bảng {name}: {got['rows']} dòng, bản sao lưu ghi {want['rows']} dòng")
        elif want["sha256"] != got["sha256"]:
            problems.append(f"bảng {name}: cùng {got['rows']} dòng nhưng nội dung khác bản sao lưu")
    return problems
