"""Exact distinct customers of any period, without a row per customer and day.

Each known customer gets a dense number (`customer_ids`); each `daily_customers`
cell (day, stage, channel, source) keeps its members as a compressed bitmap
(roaring, through pyroaring) in `customer_sets`. A period's distinct customers in
a stage is the size of the union of its days' bitmaps: a 30-day story at a million
items unions a few hundred small bitmaps instead of counting distinct values over
hundreds of thousands of rows. Exact, never estimated: the bitmaps hold the very
members `daily_customers` counts (a customer is a member of a cell while their
voices there are above zero), and `rollups rebuild` makes them again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from pyroaring import BitMap
from sqlalchemy import select, tuple_
from sqlalchemy.engine import Connection

from app.bulk import upsert_rows
from app.models import table as _t

Cell = tuple[Any, str, str, str]  # day, stage, channel, source
IDS = "customer_ids"
SETS = "customer_sets"


def numbers(conn: Connection, customers: Iterable[str]) -> dict[str, int]:
    """The dense number of each customer, numbering the new ones."""
    wanted = sorted(set(customers))
    if not wanted:
        return {}
    table = _t(IDS)
    upsert_rows(conn, table, ["customer"], [(c,) for c in wanted], keys=["customer"])
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 900):
        chunk = wanted[start : start + 900]
        for number, customer in conn.execute(
            select(table.c.id, table.c.customer).where(table.c.customer.in_(chunk))
        ):
            found[customer] = int(number)
    return found


def update(
    conn: Connection,
    joined: Sequence[tuple[Any, ...]],
    left: Sequence[tuple[Any, ...]],
) -> None:
    """Add the customers of `joined` keys (day, stage, channel, source, customer) to
    their cells, take those of `left` keys out."""
    if not joined and not left:
        return
    ids = numbers(conn, [k[4] for k in joined] + [k[4] for k in left])
    adds: dict[Cell, list[int]] = defaultdict(list)
    drops: dict[Cell, list[int]] = defaultdict(list)
    for key in joined:
        adds[(key[0], key[1], key[2], key[3])].append(ids[key[4]])
    for key in left:
        drops[(key[0], key[1], key[2], key[3])].append(ids[key[4]])
    cells = sorted(set(adds) | set(drops))
    table = _t(SETS)
    keys = [table.c.day, table.c.stage, table.c.channel, table.c.source_id]
    stored: dict[Cell, BitMap] = {}
    for start in range(0, len(cells), 400):
        chunk = cells[start : start + 400]
        for row in conn.execute(select(*keys, table.c.members).where(tuple_(*keys).in_(chunk))):
            stored[(row[0], row[1], row[2], row[3])] = BitMap.deserialize(row[4])
    upserts: list[tuple[Any, ...]] = []
    empty: list[Cell] = []
    for cell in cells:
        members = stored.get(cell, BitMap())
        members.update(adds.get(cell, []))
        members.difference_update(BitMap(drops.get(cell, [])))
        if members:
            members.run_optimize()
            upserts.append((*cell, members.serialize()))
        elif cell in stored:
            empty.append(cell)
    upsert_rows(
        conn,
        table,
        ["day", "stage", "channel", "source_id", "members"],
        upserts,
        keys=["day", "stage", "channel", "source_id"],
        replace=["members"],
    )
    for start in range(0, len(empty), 400):
        conn.execute(table.delete().where(tuple_(*keys).in_(empty[start : start + 400])))


def union_sizes(conn: Connection, clauses: Sequence[Any]) -> dict[str, int]:
    """Per stage, the distinct customers of the cells matching `clauses`."""
    table = _t(SETS)
    unions: dict[str, list[BitMap]] = defaultdict(list)
    for stage, members in conn.execute(select(table.c.stage, table.c.members).where(*clauses)):
        unions[stage].append(BitMap.deserialize(members))
    return {stage: len(BitMap.union(*sets)) for stage, sets in unions.items()}


def cell_sizes(conn: Connection, clauses: Sequence[Any]) -> dict[Cell, int]:
    """The distinct customers of each matching cell."""
    table = _t(SETS)
    query = select(
        table.c.day, table.c.stage, table.c.channel, table.c.source_id, table.c.members
    ).where(*clauses)
    return {
        (day, stage, channel, source): len(BitMap.deserialize(members))
        for day, stage, channel, source, members in conn.execute(query)
    }
