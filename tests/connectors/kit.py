"""Test kit for connectors: run a connector to the end, and per-kind scenario factories
for the standard suite (`connectors.testing`, run by `test_conn_standard.py`).

Every registered kind must have a factory here; the standard suite fails for a
kind without one, so a new connector cannot skip the contract tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.base import Connector
from connectors.registry import get_connector_class
from connectors.testing import Factory, Scenario, ScenarioContext
from tests.connectors.live import HTTP_FACTORIES


def build(kind: str, config: dict[str, Any], base_dir: Path) -> Connector[Any]:
    return get_connector_class(kind).from_mapping(config, base_dir=base_dir)


from connectors.testing import ids, items, rejects, run  # noqa: E402, F401


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@dataclass(frozen=True)
class FileScenario:
    """Files written under `base_dir`, the config that reads them, what must come out."""

    config: dict[str, Any]
    item_ids: list[str]
    bad_records: int  # how many RejectedRecords the files must produce


FileFactory = Callable[[Path, bool], FileScenario]


def files(factory: FileFactory) -> Factory:
    """A file kind's factory as the shared suite takes it."""

    def make(ctx: ScenarioContext) -> Scenario:
        made = factory(ctx.base_dir, ctx.bad)
        return Scenario(
            made.config, made.item_ids, made.bad_records, small_batches={"batch_size": 2}
        )

    return make


# --------------------------------------------------------------------------- factories


def survey_factory(base: Path, bad: bool) -> FileScenario:
    rows = [
        "response_id,submitted_at,nps,comment,why",
        "r1,2024-03-01,9,Setup was easy,Fast onboarding",
        "r2,2024-03-02T10:00:00Z,3,The invoice was wrong,",
    ]
    if bad:
        rows.append("r-bad,not a date,5,Lost record,")
    rows.append("r3,2024-03-03,7,,Support answered quickly")
    write(base / "data/a.csv", "\n".join(rows) + "\n")
    responses = [
        {"response_id": "r4", "submitted_at": "2024-03-04", "nps": 10, "comment": "Love it"},
        {"response_id": "r5", "submitted_at": "2024-03-05", "nps": "6", "why": "Too pricey"},
    ]
    write(base / "data/b.json", json.dumps({"responses": responses}))
    config = {
        "path": "data",
        "id_column": "response_id",
        "date_column": "submitted_at",
        "score_column": "nps",
        "rating_scale": "nps_0_10",
        "answers": [{"column": "comment", "question": "Anything else?"}, {"column": "why"}],
    }
    expected = ["r1:comment", "r1:why", "r2:comment", "r3:why", "r4:comment", "r5:why"]
    return FileScenario(config, expected, 1 if bad else 0)


def _status(sid: str, html: str, day: int) -> str:
    return json.dumps(
        {
            "id": sid,
            "created_at": f"2024-04-{day:02d}T08:00:00.000Z",
            "content": html,
            "account": {"acct": f"user{sid}@example.social"},
            "reblog": None,
            "in_reply_to_id": None,
            "url": f"https://example.social/@u/{sid}",
            "language": "en",
            "tags": [],
            "favourites_count": 1,
        }
    )


def social_factory(base: Path, bad: bool) -> FileScenario:
    lines = [
        _status("101", "<p>Checkout froze twice</p>", 1),
        _status("102", "<p>Great app</p>", 2),
    ]
    if bad:
        lines.append('{"id": "103", "created_at": ')  # a cut line
    lines.append(_status("104", "<p>Refund still pending</p>", 3))
    write(base / "data/a.ndjson", "\n".join(lines) + "\n")
    array = [json.loads(_status("105", "<p>Renewed today</p>", 4))]
    array.append(json.loads(_status("106", "Support was kind", 5)))
    write(base / "data/b.json", json.dumps(array))
    return FileScenario({"path": "data"}, ["101", "102", "104", "105", "106"], 1 if bad else 0)


def calls_factory(base: Path, bad: bool) -> FileScenario:
    rows = [
        "call_id,started_at,customer_id,reason,notes",
        "c1,2024-05-01T09:00:00,cust-1,Billing,Charged twice this month",
        "c2,2024-05-01T10:00:00,cust-2,Setup,Could not connect the device",
    ]
    if bad:
        rows.append(",2024-05-01T11:00:00,cust-3,Billing,No id on this one")
    write(base / "data/a.csv", "\n".join(rows) + "\n")
    write(
        base / "data/b.txt",
        "---\ncall_id: c3\ndate: 2024-05-02\n---\n"
        "Agent: Thanks for calling.\nCustomer: My card was declined.\n",
    )
    write(
        base / "data/c.vtt",
        "WEBVTT\n\nNOTE\ncall_id: c4\ndate: 2024-05-03T12:00:00Z\n\n"
        "00:00:01.000 --> 00:00:03.000\n<v Agent>Hello, how can I help?\n\n"
        "00:00:03.500 --> 00:00:06.000\n<v Customer>I want to cancel my plan.\n",
    )
    return FileScenario({"path": "data"}, ["c1", "c2", "c3", "c4"], 1 if bad else 0)


def ethnography_factory(base: Path, bad: bool) -> FileScenario:
    write(
        base / "data/visit-1.md",
        "---\nparticipant: P01\ndate: 2024-06-01\nsite: Lyon\n---\n# Store visit\n\n"
        "She hesitated at the checkout screen for a long time.\n\n"
        "The receipt printer jammed and she left without it.\n\n"
        "She said she would come back next month anyway.\n",
    )
    if bad:
        write(base / "data/visit-2.md", "No front matter here, just words that go nowhere.\n")
    write(
        base / "data/visit-3.md",
        "---\nparticipant: P02\ndate: 2024-06-02\n---\n"
        "He compared our price with two competitors first.\n\n"
        "Setting up the account took him less than five minutes.\n",
    )
    expected = ["visit-1#p1", "visit-1#p2", "visit-1#p3", "visit-3#p1", "visit-3#p2"]
    return FileScenario({"path": "data"}, expected, 1 if bad else 0)


def sql_factory(ctx: ScenarioContext) -> Scenario:
    """A warehouse table of answers (SQLite), read as feedback by id."""
    import sqlite3

    path = ctx.base_dir / "warehouse.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE answers (id INTEGER, body TEXT, at TEXT, who TEXT)")
        rows = [
            (1, "Setup was quick and easy.", "2026-05-01T09:00:00Z", "a-1"),
            (2, "The invoice was wrong again.", "2026-05-02T09:00:00Z", "a-2"),
            (3, "Support solved it in one call.", "2026-05-03T09:00:00Z", None),
        ]
        if ctx.bad:
            rows.insert(1, (9, "", "2026-05-01T10:00:00Z", "a-9"))  # no words: refused
        db.executemany("INSERT INTO answers VALUES (?, ?, ?, ?)", rows)
    return Scenario(
        config={
            "url_env": "LP_KIT_WAREHOUSE",
            "produces": "feedback",
            "query": "SELECT id, body, at, who FROM answers",
            "columns": {"text": "body", "date": "at", "author": "who"},
            "cursor_column": "id",
        },
        item_ids=["1", "2", "3"],
        bad_records=1 if ctx.bad else 0,
        small_batches={"batch_size": 2},
        env={"LP_KIT_WAREHOUSE": f"sqlite:///{path}"},
    )


FACTORIES: dict[str, Factory] = {
    "sql": sql_factory,
    "survey_file": files(survey_factory),
    "social_export": files(social_factory),
    "call_notes": files(calls_factory),
    "ethnography": files(ethnography_factory),
    **HTTP_FACTORIES,
}
