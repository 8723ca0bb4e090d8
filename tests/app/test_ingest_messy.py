"""Issue 13, app side: ingest that loses nothing, merges nothing and never crashes
on messy records. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from app.ingest.locks import SourceBusyError, source_lock
from app.ingest.policy import IngestPolicy
from app.ingest.service import INTERRUPTED, close_all_interrupted_runs, run_sync
from app.main import create_app
from app.models import Item, QuarantinedRecord, RunDuplicate, Segment, Source, SyncRun
from app.runtime import Runtime, build_runtime
from app.scales import Scales, ScaleSpec
from app.settings import Settings
from connectors.base import RawItem, RejectedRecord
from nlp.enrichment import Enricher
from nlp.journey import Journey
from tests.app.helpers import ListConnector, add_source, admin_headers
from tests.conftest import FIXTURES

DAY = datetime(2026, 9, 1, 9, tzinfo=UTC)


def anon(n: int, words: str, *, author: str | None = None, **extra: object) -> RawItem:
    fields: dict[str, object] = {"occurred_at": DAY + timedelta(minutes=n), **extra}
    return RawItem(
        external_id=f"r-{n}",
        text=words,
        author_ref=author,
        **fields,  # type: ignore[arg-type]
    )


def sync(  # type: ignore[no-untyped-def]
    engine: Engine,
    enricher: Enricher,
    journey: Journey,
    batches: list[tuple[list[RawItem], list[RejectedRecord]]],
    *,
    policy: IngestPolicy | None = None,
    source_id: str = "src",
):
    return run_sync(
        engine,
        source_id=source_id,
        connector=ListConnector(batches),
        enricher=enricher,
        journey=journey,
        policy=policy,
    )


def items(engine: Engine) -> list[Item]:
    with Session(engine) as session:
        return list(session.exec(select(Item).order_by(col(Item.id))).all())


def forget_cursor(engine: Engine, source_id: str = "src") -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE sources SET cursor = NULL WHERE id = :s"), {"s": source_id})


# ---------------------------------------------------------------- 1. never merge strangers


def test_identical_answers_from_unknown_people_are_separate_voices(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    add_source(engine)
    answers = [anon(n, "Good service") for n in range(5)] + [anon(n, "N/A") for n in range(5, 8)]
    result = sync(engine, enricher, journey, [(answers, [])])
    assert (result.inserted, result.duplicates) == (8, 0)
    assert len(items(engine)) == 8


def test_a_known_author_saying_the_same_words_the_same_day_is_one_voice(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    add_source(engine)
    first = anon(1, "The invoice was wrong again.", author="c-9")
    reexported = replace(first, external_id="export-2:1")  # same words, same day, new id
    next_day = replace(first, external_id="r-3", occurred_at=DAY + timedelta(days=1))
    result = sync(engine, enricher, journey, [([first, reexported, next_day], [])])
    assert (result.inserted, result.duplicates) == (2, 1)
    with Session(engine) as session:
        dup = session.exec(select(RunDuplicate)).one()
        matched = session.exec(select(Item).where(Item.external_id == "r-1")).one()
    assert (dup.external_id, dup.rule, dup.matched_item_id) == ("export-2:1", "content", matched.id)


# ---------------------------------------------------------------- 2. edits update


def test_an_edited_record_updates_its_item_in_place(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    add_source(engine)
    original = anon(1, "The invoice was wrong.", author="c-1", rating=3, rating_scale="nps_0_10")
    sync(engine, enricher, journey, [([original], [])])
    (before,) = items(engine)
    forget_cursor(engine)
    edited = replace(original, text="Setup was easy and the engineer was lovely.", rating=9)
    result = sync(engine, enricher, journey, [([edited], [])])
    assert (result.inserted, result.updated, result.duplicates) == (0, 1, 0)
    (after,) = items(engine)
    assert after.id == before.id
    assert after.text == edited.text
    assert after.rating == 9
    assert after.sentiment_label == "positive"
    assert after.ingested_at == before.ingested_at
    assert after.updated_at > before.updated_at
    with Session(engine) as session:
        segments = session.exec(select(Segment).where(Segment.item_id == after.id)).all()
    assert segments
    assert all("invoice" not in s.text for s in segments)
    assert "billing" not in {s.stage for s in segments}
    # the same record once more: unchanged, a duplicate
    forget_cursor(engine)
    again = sync(engine, enricher, journey, [([edited], [])])
    assert (again.inserted, again.updated, again.duplicates) == (0, 0, 1)


# ---------------------------------------------------------------- 4. NUL


def test_nul_characters_never_reach_the_store(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    add_source(engine)
    dirty = anon(
        1, "Broken\x00 router again", author="c\x001", attributes={"pl\x00an": "fi\x00bre"}
    )
    reject = RejectedRecord(reason="bad\x00row", excerpt="x\x00y", location="f.csv:row 2")
    result = sync(engine, enricher, journey, [([dirty, anon(2, "Fine.")], [reject])])
    assert result.status == "succeeded"
    assert (result.inserted, result.rejected, result.nul_replaced) == (2, 1, 2)
    stored = items(engine)[0]
    for value in (stored.text, stored.author_ref, *stored.attributes, *stored.attributes.values()):
        assert "\x00" not in str(value)
    assert "\ufffd" in stored.text
    with Session(engine) as session:
        q = session.exec(select(QuarantinedRecord)).one()
        segment_texts = [s.text for s in session.exec(select(Segment)).all()]
    assert "\x00" not in q.reason + q.excerpt
    assert all("\x00" not in t for t in segment_texts)


# ---------------------------------------------------------------- 5. interrupted runs


def test_a_run_left_running_by_a_dead_process_is_closed(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    add_source(engine)
    with Session(engine) as session:
        session.add(SyncRun(source_id="src", trigger="cli"))  # its process was killed
        session.commit()
    assert close_all_interrupted_runs(engine) == 1
    sync(engine, enricher, journey, [([anon(1, "Fine.")], [])])
    with Session(engine) as session:
        runs = session.exec(select(SyncRun).order_by(col(SyncRun.id))).all()
    assert [(r.status, r.error) for r in runs] == [("failed", INTERRUPTED), ("succeeded", None)]
    assert runs[0].finished_at is not None


def test_taking_the_lock_closes_a_stale_run(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    add_source(engine)
    with Session(engine) as session:
        session.add(SyncRun(source_id="src", trigger="cli"))
        session.commit()
    sync(engine, enricher, journey, [([anon(1, "Fine.")], [])])
    with Session(engine) as session:
        statuses = [r.status for r in session.exec(select(SyncRun).order_by(col(SyncRun.id)))]
    assert statuses == ["failed", "succeeded"]


# ---------------------------------------------------------------- 6. quarantine once


def test_a_reject_is_stored_once_however_often_its_file_is_read(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    add_source(engine)
    bad = [RejectedRecord(reason=f"bad date in row {n}", excerpt=f"row {n}") for n in range(6)]
    located = [replace(r, location=f"f.csv:row {n}") for n, r in enumerate(bad)]
    sync(engine, enricher, journey, [([anon(1, "Fine.")], located)])
    forget_cursor(engine)  # the file changed (a row appended): read again from the top
    again = sync(engine, enricher, journey, [([anon(1, "Fine."), anon(2, "Great.")], located)])
    assert again.rejected == 6
    with Session(engine) as session:
        rows = session.exec(select(QuarantinedRecord)).all()
    assert len(rows) == 6
    assert {r.times_seen for r in rows} == {2}


# ---------------------------------------------------------------- 7. lock across processes


HOLDER = textwrap.dedent(
    """
    import sys, time
    from app.db import make_engine
    from app.ingest.locks import source_lock
    engine = make_engine(sys.argv[1])
    with source_lock(engine, "src"):
        print("locked", flush=True)
        sys.stdin.readline()
    """
)


def _holder(engine: Engine) -> subprocess.Popen[str]:
    """Another process (a CLI `sync` beside `serve`) that takes the source's lock."""
    url = engine.url.render_as_string(hide_password=False)
    env = dict(os.environ)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        env["PGOPTIONS"] = f"-csearch_path={schema}"
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_a_sync_in_another_process_blocks_this_one(engine: Engine) -> None:
    with _holder(engine) as holder:
        assert holder.stdout is not None
        assert holder.stdin is not None
        assert holder.stdout.readline().strip() == "locked"
        try:
            with (
                pytest.raises(SourceBusyError, match="another process"),
                source_lock(engine, "src"),
            ):
                pass
        finally:
            holder.stdin.write("\n")
            holder.stdin.flush()
            holder.wait(30)
    with source_lock(engine, "src"):  # the holder is gone, and so is its lock
        pass


def test_a_killed_holder_releases_the_lock(engine: Engine) -> None:
    with _holder(engine) as holder:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        holder.kill()
        holder.wait(30)
    with source_lock(engine, "src"):
        pass


# ---------------------------------------------------------------- 8. scales


def test_scores_outside_their_scale_are_rejected_with_the_reason(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    add_source(engine)
    policy = IngestPolicy(scales=Scales({"effort_0_100": ScaleSpec(min=0, max=100)}))
    records = [
        anon(1, "Great.", rating=-5, rating_scale="nps_0_10"),
        anon(2, "Great.", rating=11, rating_scale="nps_0_10"),
        anon(3, "Great.", rating=1e308, rating_scale="nps_0_10"),
        anon(4, "Great.", rating=7.5, rating_scale="nps_0_10"),
        anon(5, "Great.", rating=0, rating_scale="csat_1_5"),
        anon(6, "Great.", rating=8, rating_scale="ces_1_7"),
        anon(7, "Great.", rating=4.5, rating_scale="stars_1_5"),
        anon(8, "Great.", rating=55, rating_scale="effort_0_100"),
        anon(9, "Great.", rating=101, rating_scale="effort_0_100"),
        anon(10, "Great.", rating=5, rating_scale="made_up"),
        anon(11, "Great.", rating=10, rating_scale="nps_0_10"),
        anon(12, "Great.", rating=0, rating_scale="nps_0_10"),
    ]
    result = sync(engine, enricher, journey, [(records, [])], policy=policy)
    assert result.inserted == 4
    kept = {i.external_id for i in items(engine)}
    assert kept == {"r-7", "r-8", "r-11", "r-12"}
    with Session(engine) as session:
        reasons = {q.external_id: q.reason for q in session.exec(select(QuarantinedRecord))}
    assert reasons["r-2"] == "score 11 is outside nps_0_10 (0-10, whole numbers)"
    assert "not on nps_0_10" in reasons["r-4"]
    assert "unknown rating scale 'made_up'" in reasons["r-10"]


def test_the_story_never_fails_on_scores_stored_before_the_check(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    add_source(engine)
    sync(
        engine,
        enricher,
        journey,
        [([anon(1, "Great service.", rating=9, rating_scale="nps_0_10")], [])],
    )
    (good,) = items(engine)
    row = good.model_dump(exclude={"id"})
    with engine.begin() as conn:
        for n, bad in enumerate((1e308, 1e308, -5.0)):
            conn.execute(
                insert(SQLModel.metadata.tables["items"]),
                {**row, "external_id": f"legacy-{n}", "rating": bad},
            )
    runtime = _runtime(engine)
    with TestClient(create_app(runtime=runtime, start_scheduler=False)) as client:
        client.headers.update(admin_headers(runtime.engine))
        response = client.get("/api/v1/story")
    assert response.status_code == 200, response.text
    ratings = [r for s in response.json()["stages"] for r in s["ratings"]]
    assert ratings
    assert all(r["mean"] == 9 for r in ratings)


# ---------------------------------------------------------------- 9. date window


def test_dates_outside_the_window_are_rejected(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    add_source(engine)
    now = datetime.now(UTC)
    records = [
        anon(1, "Fine.", occurred_at=datetime(9999, 12, 31, tzinfo=UTC)),
        anon(2, "Fine.", occurred_at=datetime(1989, 12, 31, 23, tzinfo=UTC)),
        anon(3, "Fine.", occurred_at=now + timedelta(days=2)),
        anon(4, "Fine.", occurred_at=now + timedelta(hours=12)),
        anon(5, "Fine.", occurred_at=datetime(1990, 1, 1, tzinfo=UTC)),
    ]
    result = sync(engine, enricher, journey, [(records, [])])
    assert {i.external_id for i in items(engine)} == {"r-4", "r-5"}
    assert result.rejected == 3
    narrow = IngestPolicy(occurred_after=date(2020, 1, 1), future_tolerance=timedelta(0))
    forget_cursor(engine)
    later = sync(
        engine,
        enricher,
        journey,
        [([anon(9, "Fine.", occurred_at=datetime(2019, 5, 1, tzinfo=UTC))], [])],
        policy=narrow,
    )
    assert later.rejected == 1
    assert "outside the accepted window 2020-01-01" in later.reject_reasons[0].reason


# ---------------------------------------------------------------- 13. all rejected = failed


def test_a_run_that_rejects_every_record_fails_naming_its_reasons(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    add_source(engine)
    rejects = [
        RejectedRecord(
            reason=f"unparseable date '2{n}/04/2018 20:09' (expected ISO 8601; set date_format)",
            excerpt="",
            location=f"f.csv:row {n}",
        )
        for n in range(5)
    ] + [RejectedRecord(reason="missing response id (column 'id')", excerpt="")]
    result = sync(engine, enricher, journey, [([], rejects)])
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.startswith("6 of 6 records rejected: unparseable date '20/04/2018 20:09'")
    assert "(5)" in result.error
    assert [r.count for r in result.reject_reasons] == [5, 1]
    with Session(engine) as session:
        run = session.exec(select(SyncRun)).one()
    assert run.status == "failed"
    assert run.reject_reasons[0]["count"] == 5


# ---------------------------------------------------------------- run detail API


def _runtime(engine: Engine) -> Runtime:
    settings = Settings(
        database_url=str(engine.url),
        sources_file=FIXTURES / "app" / "sources.yaml",
        scheduler_enabled=False,
    )
    return build_runtime(settings, engine=engine)


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=_runtime(engine), start_scheduler=False)) as test_client:
        test_client.headers.update(admin_headers(engine))
        yield test_client


def test_a_runs_duplicates_are_listed_with_the_item_they_matched(
    engine: Engine, enricher: Enricher, journey: Journey, client: TestClient
) -> None:
    add_source(engine)
    records = [anon(n, f"The invoice {n} was wrong.", author=f"c-{n}") for n in range(150)]
    sync(engine, enricher, journey, [(records, [])])
    forget_cursor(engine)
    again = sync(engine, enricher, journey, [(records, [])])
    assert again.duplicates == 150
    detail = client.get(f"/api/v1/sources/src/runs/{again.run_id}")
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["duplicates"] == 150
    assert len(body["duplicate_records"]) == 100
    ids = {i.external_id: i.id for i in items(engine)}
    listed = list(body["duplicate_records"])
    url = body["duplicates_next"]
    while url:
        page = client.get(url).json()
        listed.extend(page["duplicates"])
        url = page["next"]
    assert len(listed) == 150
    assert all(d["matched_item_id"] == ids[d["external_id"]] for d in listed)
    assert {d["rule"] for d in listed} == {"external_id"}
    assert client.get("/api/v1/sources/src/runs/999999").status_code == 404
    assert client.get("/api/v1/sources/nope/runs/1").status_code == 404


# ---------------------------------------------------------------- 10. bad query input


def _cursor(payload: str) -> str:
    import base64

    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/items", {"from": "9999-12-31T23:59:59-23:00"}),
        ("/api/v1/items", {"to": "9999-12-31T23:59:59-23:00"}),
        ("/api/v1/items", {"from": "0001-01-01T00:00:00+14:00"}),
        ("/api/v1/story", {"to": "0001-01-01T00:00:00+14:00"}),
        ("/api/v1/story", {"from": "0001-01-01T00:00:00+14:00"}),
        ("/api/v1/items", {"cursor": _cursor('["9999-12-31T23:59:59-23:59", 5]')}),
        ("/api/v1/items", {"cursor": _cursor('["2026-09-01T00:00:00+00:00", Infinity]')}),
        ("/api/v1/items", {"cursor": _cursor('["2026-09-01T00:00:00+00:00", 1e999]')}),
        ("/api/v1/items", {"cursor": _cursor('["2026-09-01T00:00:00+00:00", 5.0]')}),
        ("/api/v1/items", {"cursor": _cursor('["2026-09-01T00:00:00+00:00", true]')}),
        ("/api/v1/items", {"cursor": _cursor('["2026-09-01T00:00:00+00:00", "5"]')}),
        ("/api/v1/items", {"cursor": _cursor("[5, 5]")}),
        ("/api/v1/items", {"cursor": "\u00ff\u00fe"}),
    ],
)
def test_bad_query_input_is_a_400_never_a_500(
    client: TestClient, path: str, params: dict[str, str]
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 400, response.text
    assert response.json()["detail"]


# ---------------------------------------------------------------- 15. unmapped hint values


def test_hint_values_the_config_does_not_map_are_counted(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    add_source(engine)
    records = [
        anon(1, "Engineer was on time.", stage_hint="onboard", hint_value="Installation"),
        anon(2, "Moved house, all fine.", hint_value="Home move"),  # unmapped
        anon(3, "Fine.", hint_value="Other"),  # unmapped
        anon(4, "Fine again."),  # no hint looked up at all
    ]
    result = sync(engine, enricher, journey, [(records, [])])
    assert (result.inserted, result.unmapped_hints, result.ignored_hints) == (4, 2, 0)
    with Session(engine) as session:
        run = session.exec(select(SyncRun)).one()
    assert run.unmapped_hints == 2


def test_no_host_path_in_a_sources_config_answer() -> None:
    from app.sources.schemas import redact_config

    shown = redact_config(
        {"path": "/srv/exports/calls", "api_token": "x", "inner": {"path": "C:\\data\\a.csv"}}
    )
    assert shown == {"path": ".../calls", "api_token": "***", "inner": {"path": ".../a.csv"}}
    assert redact_config({"path": "calls/notes.csv"}) == {"path": "calls/notes.csv"}


def test_secrets_are_masked_by_their_type_at_any_depth() -> None:
    """A field typed as a secret is masked whatever it is called, in nested models
    and lists; credentials in a URL are cut; names are only the fallback."""
    from pydantic import BaseModel, SecretStr

    from app.sources.schemas import redact_config

    class Hook(BaseModel):
        url: str
        signing: SecretStr

    class Config(BaseModel):
        base_url: str
        passphrase_for_export: SecretStr | None = None
        hooks: list[Hook] = []
        mirrors: list[str] = []

    shown = redact_config(
        {
            "base_url": "https://bot:hunter2@api.example.com/v2",
            "passphrase_for_export": "open-sesame",
            "hooks": [{"url": "https://h.example/x", "signing": "s3cr3t"}],
            "mirrors": ["ftp://me:pw@mirror.example/", "https://plain.example/"],
            "unknown_api_key": "k",
        },
        Config,
    )
    text = repr(shown)
    for secret in ("hunter2", "open-sesame", "s3cr3t", "pw@", "'k'"):
        assert secret not in text, secret
    assert shown["base_url"] == "https://***@api.example.com/v2"
    assert shown["hooks"] == [{"url": "https://h.example/x", "signing": "***"}]
    assert shown["mirrors"][1] == "https://plain.example/"


class _Failing(ListConnector):
    def __init__(self, exc: Exception) -> None:
        super().__init__([])
        self.exc = exc

    def fetch(self, cursor: Any) -> Any:
        raise self.exc
        yield  # a generator, like every connector


def test_a_runs_error_carries_no_sql_values_or_host_paths(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    from sqlalchemy.exc import IntegrityError

    from connectors.errors import FatalError

    add_source(engine)
    database = IntegrityError(
        "INSERT INTO items (author_ref, text) VALUES (%(a)s, %(t)s)",
        {"a": "mary.jones@example.com", "t": "my words"},
        Exception("duplicate key value violates unique constraint"),
    )
    for exc, leaked in [
        (database, ("mary.jones", "INSERT", "my words")),
        (FatalError("cannot read /srv/lp/secret-exports/calls.csv: gone"), ("/srv/lp",)),
    ]:
        result = run_sync(
            engine, source_id="src", connector=_Failing(exc), enricher=enricher, journey=journey
        )
        assert result.error is not None
        with Session(engine) as session:
            source = session.get(Source, "src")
            assert source is not None
            for text in (result.error, source.last_error or ""):
                for secret in leaked:
                    assert secret not in text, text
    assert "calls.csv" in result.error  # what a person needs to act is kept
