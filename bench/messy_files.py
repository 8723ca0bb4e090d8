"""Hostile and messy exports through the real product: what is read, stored, rejected.

    python bench/messy_files.py [--postgres postgresql://postgres@127.0.0.1:5432/test]

Builds one folder per case (latin-1 and UTF-16 files, a 1 MB cell, NUL bytes in
text/author/attributes, dates that overflow in UTC or lie in year 9999, scores
outside their scale, a symlink out of the folder, anonymous identical answers,
an edited row, a real-looking telecom NPS export with day-first dates, no id
column and a touchpoint column), declares each as a source, syncs it with
`Runtime.sync` on SQLite (and PostgreSQL when given), and prints per case:
records read / stored / rejected / duplicates / updated, the good records the
case holds, and how many of them are missing from the store ("lost": must be 0).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import text
from sqlmodel import Session, func, select

# The repository first: Python puts bench/ on the path, where bench/connectors.py
# would shadow the connectors package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.db import make_engine
from app.models import Item, QuarantinedRecord
from app.runtime import build_runtime
from app.settings import Settings

HEADER = ["response_id", "submitted_at", "customer_id", "nps", "why", "plan"]
SURVEY = {
    "id_column": "response_id",
    "date_column": "submitted_at",
    "customer_column": "customer_id",
    "score_column": "nps",
    "rating_scale": "nps_0_10",
    "answers": [{"column": "why"}],
    "attributes": ["plan"],
}


def rows_csv(rows: list[list[str]], header: list[str] = HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def good(n: int, why: str | None = None, *, day: str = "2026-09-0{d}T10:00:00Z") -> list[str]:
    return [
        f"r{n}",
        day.format(d=1 + n % 9),
        f"c{n}",
        str(n % 11),
        why or f"Answer {n}: the engineer was helpful but the bill was wrong.",
        "fibre",
    ]


@dataclass
class Case:
    name: str
    kind: str
    config: dict[str, Any]
    build: Callable[[Path], None]
    good_records: int  # records a person would expect to find stored
    then: Callable[[Path], None] | None = None  # an edit or re-export, synced again
    good_after: int | None = None
    runs: list[Any] = field(default_factory=list)


def _write(path: Path, content: str | bytes, encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode(encoding))


def cases() -> list[Case]:
    accents = [good(n, f"Très bien, the café-style router is fine {n} (ﬁbre)") for n in range(5)]
    latin = [good(n, f"Très bien, le débit est correct {n}; ça marche") for n in range(5)]
    huge = [good(1), good(2, "x" * 1_048_576), good(3), good(4)]
    nul = [
        good(1, "Broken\x00 router"),
        ["r2", "2026-09-02", "c\x002", "7", "Fine\x00.", "fi\x00bre"],
        good(3),
    ]
    overflow = [
        good(1),
        ["r2", "9999-12-31T23:00:00-05:00", "c2", "5", "Overflowing date", "fibre"],
        ["r3", "0001-01-01T00:00:00+01:00", "c3", "5", "Underflowing date", "fibre"],
        ["r4", "9999-06-01T00:00:00Z", "c4", "5", "Year 9999", "fibre"],
        good(5),
    ]
    scores = [
        good(1),
        ["r2", "2026-09-02", "c2", "-5", "Negative score", "fibre"],
        ["r3", "2026-09-02", "c3", "11", "Eleven", "fibre"],
        ["r4", "2026-09-02", "c4", "1e308", "Huge score", "fibre"],
        good(5),
    ]
    anonymous_rows = [
        [f"a{n}", "2026-09-03T09:00:00Z", "", "8", "Good service", "fibre"] for n in range(5)
    ]
    anonymous_rows += [
        [f"a{n}", "2026-09-03T09:00:00Z", "", "", "N/A", "fibre"] for n in range(5, 8)
    ]
    edit_rows = [good(n) for n in range(1, 6)]

    def edit(folder: Path) -> None:
        rows = [list(r) for r in edit_rows]
        rows[2][4] = "Edited: setup was easy and the engineer was lovely."
        _write(folder / "survey.csv", rows_csv(rows))

    telecom_header = ["Date", "Touchpoint", "Likelihood to recommend", "Comment", "Region"]
    touchpoints = ["Order", "Installation", "First bill", "In use", "Repair"]
    comments = [
        "Engineer came on time and set it all up",
        "Good service",
        "Good service",
        "Bill was higher than quoted",
        "N/A",
        "Speeds drop every evening",
        "Took three calls to get an answer",
    ]
    telecom_rows = [
        [
            f"{1 + n % 28:02d}/{1 + n % 12:02d}/2018 {8 + n % 12:02d}:{n % 60:02d}",
            touchpoints[n % len(touchpoints)],
            str(n % 11),
            comments[n % len(comments)],
            ["North", "South"][n % 2],
        ]
        for n in range(120)
    ]
    telecom_rows.append(list(telecom_rows[0]))  # two people, identical answer, same minute

    def reexport(folder: Path) -> None:
        rows = list(reversed(telecom_rows)) + [
            ["30/12/2018 09:15", "Order", "9", "Quick and friendly", "North"]
        ]
        _write(folder / "export.csv", rows_csv(rows, telecom_header))

    def symlinked(folder: Path) -> None:
        _write(
            folder / "calls" / "call-1.txt", "Customer: My bill was wrong twice.\nAgent: Sorry.\n"
        )
        _write(folder / "calls" / "a" / "call.txt", "Customer: The router keeps dropping.\n")
        _write(folder / "calls" / "b" / "call.txt", "Customer: The router keeps dropping.\n")
        os.symlink("/etc/passwd", folder / "calls" / "passwd.txt")
        os.symlink("/etc", folder / "calls" / "etc")

    return [
        Case(
            "latin-1 file",
            "survey_file",
            {**SURVEY, "path": "survey.csv"},
            lambda f: _write(f / "survey.csv", rows_csv(latin), "latin-1"),
            5,
        ),
        Case(
            "UTF-16 file (BOM)",
            "survey_file",
            {**SURVEY, "path": "survey.csv"},
            lambda f: _write(f / "survey.csv", rows_csv(accents), "utf-16"),
            5,
        ),
        Case(
            "1 MB cell",
            "survey_file",
            {**SURVEY, "path": "survey.csv"},
            lambda f: _write(f / "survey.csv", rows_csv(huge)),
            3,
        ),
        Case(
            "NUL in text/author/attribute",
            "survey_file",
            {**SURVEY, "path": "survey.csv"},
            lambda f: _write(f / "survey.csv", rows_csv(nul)),
            3,
        ),
        Case(
            "dates overflowing UTC / year 9999",
            "survey_file",
            {**SURVEY, "path": "survey.csv"},
            lambda f: _write(f / "survey.csv", rows_csv(overflow)),
            2,
        ),
        Case(
            "scores -5, 11, 1e308 on nps_0_10",
            "survey_file",
            {**SURVEY, "path": "survey.csv"},
            lambda f: _write(f / "survey.csv", rows_csv(scores)),
            2,
        ),
        Case("symlinks out of the folder", "call_notes", {"path": "calls"}, symlinked, 3),
        Case(
            "anonymous identical answers",
            "survey_file",
            {**SURVEY, "path": "survey.csv", "customer_column": None},
            lambda f: _write(f / "survey.csv", rows_csv(anonymous_rows)),
            8,
        ),
        Case(
            "an edited row",
            "survey_file",
            {**SURVEY, "path": "survey.csv"},
            lambda f: _write(f / "survey.csv", rows_csv(edit_rows)),
            5,
            then=edit,
            good_after=5,
        ),
        Case(
            "telecom NPS: day-first, no id, touchpoint",
            "survey_file",
            {
                "path": "export.csv",
                "date_column": "Date",
                "dayfirst": True,
                "timezone": "Europe/London",
                "score_column": "Likelihood to recommend",
                "rating_scale": "nps_0_10",
                "hint_column": "Touchpoint",
                "hint_values": {
                    "Order": "purchase",
                    "Installation": "onboard",
                    "First bill": "billing",
                    "In use": "use",
                },
                "answers": [{"column": "Comment"}],
                "attributes": ["Region"],
            },
            lambda f: _write(f / "export.csv", rows_csv(telecom_rows, telecom_header)),
            len(telecom_rows),
            then=reexport,
            good_after=len(telecom_rows) + 1,
        ),
    ]


def run(url: str, label: str) -> int:
    lost_total = 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        all_cases = [c for c in cases() if c.name not in os.environ.get("MESSY_SKIP", "")]
        specs = []
        for n, case in enumerate(all_cases):
            folder = root / f"case{n}"
            folder.mkdir()
            case.build(folder)
            config = {k: v for k, v in case.config.items() if v is not None}
            config["path"] = f"case{n}/{config['path']}"
            specs.append(
                {"id": f"case-{n}", "name": case.name, "kind": case.kind, "config": config}
            )
        sources = root / "sources.yaml"
        sources.write_text(yaml.safe_dump({"sources": specs}, allow_unicode=True), encoding="utf-8")
        schema = None
        kwargs: dict[str, Any] = {}
        if url.startswith("postgresql"):
            schema = f"lp_messy_{uuid.uuid4().hex[:8]}"
            admin = make_engine(url)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            kwargs = {"connect_args": {"options": f"-csearch_path={schema}"}}
        engine = make_engine(url, **kwargs)
        try:
            runtime = build_runtime(
                Settings(database_url=url, sources_file=sources, scheduler_enabled=False),
                engine=engine,
            )
            print(f"\n{label}")
            print(
                f"{'case':44s} {'run':>3s} {'status':>9s} {'read':>5s} {'stored':>6s} "
                f"{'rejected':>8s} {'dup':>4s} {'updated':>7s} {'NUL':>4s} {'good':>5s} {'lost':>4s}  "
                "top reject reason"
            )
            for n, case in enumerate(all_cases):
                steps: list[tuple[Callable[[Path], None] | None, int]] = [(None, case.good_records)]
                if case.then is not None:
                    steps.append((case.then, case.good_after or case.good_records))
                for step_no, (change, expected) in enumerate(steps, start=1):
                    if change is not None:
                        change(root / f"case{n}")
                    result = runtime.jobs.sync(f"case-{n}", trigger="bench")
                    with Session(engine) as session:
                        stored = session.exec(
                            select(func.count())
                            .select_from(Item)
                            .where(Item.source_id == f"case-{n}")
                        ).one()
                        stored_rows = session.exec(
                            select(Item).where(Item.source_id == f"case-{n}")
                        ).all()
                    # checked in Python: SQLite's LIKE stops at a NUL in its pattern
                    nul_left = sum(
                        "\x00" in (i.text + (i.author_ref or "") + str(i.attributes))
                        for i in stored_rows
                    )
                    lost = max(0, expected - int(stored))
                    lost_total += lost
                    top = result.reject_reasons[0].reason[:70] if result.reject_reasons else ""
                    print(
                        f"{case.name:44s} {step_no:>3d} {result.status:>9s} {result.fetched:>5d} "
                        f"{int(stored):>6d} {result.rejected:>8d} {result.duplicates:>4d} "
                        f"{result.updated:>7d} {result.nul_replaced:>4d} {expected:>5d} {lost:>4d}  {top}"
                    )
                    assert nul_left == 0
            with Session(engine) as session:
                leaked = [
                    q.location
                    for q in session.exec(select(QuarantinedRecord))
                    if q.location and (q.location.startswith("/") or "root:" in q.excerpt)
                ]
            print(f"quarantine rows with a host path or /etc/passwd text: {len(leaked)}")
            print(f"good records lost: {lost_total}")
            runtime.close()
        finally:
            engine.dispose()
            if schema is not None:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
    return lost_total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=None, help="also run on this PostgreSQL URL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lost = run(f"sqlite:///{Path(tmp) / 'messy.db'}", "SQLite")
    if args.postgres:
        url = args.postgres
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        lost += run(url, "PostgreSQL")
    raise SystemExit(1 if lost else 0)


if __name__ == "__main__":
    main()
