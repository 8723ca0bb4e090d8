"""Personal data (both databases): customer references that are personal data are
stored as keyed pseudonyms, attributes and rejects are redacted, and erasure and
retention take a customer's items out with everything made from them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.customers.erasure import purge_before
from app.customers.pseudonyms import Pseudonyms
from app.main import create_app
from app.readmodel.maintain import READ_MODEL_TABLES
from app.runtime import Runtime, build_runtime
from app.settings import Settings
from connectors.base import RawItem, RejectedRecord
from nlp.redaction import is_personal_reference
from tests.app.helpers import ListConnector, add_source, admin_headers
from tests.app.test_readmodel import snapshot
from tests.conftest import FIXTURES

DAY = datetime(2026, 9, 1, 9, tzinfo=UTC)


def records() -> list[RawItem]:
    people = ["Mary.Jones@Example.com", "+44 7700 900123", "crm-1001", "mary.jones@example.com"]
    return [
        RawItem(
            external_id=f"r-{n}",
            text=["The invoice was wrong.", "Setup was easy.", "I was charged twice."][n % 3],
            occurred_at=DAY + timedelta(days=n),
            author_ref=people[n % 4],
            attributes={"contact": "call me on +44 7700 900123", "plan": "fibre"},
        )
        for n in range(12)
    ]


@pytest.fixture
def runtime(engine: Engine) -> Runtime:
    rt = build_runtime(
        Settings(
            database_url=str(engine.url),
            sources_file=FIXTURES / "app" / "sources.yaml",
            scheduler_enabled=False,
            pseudonym_key="test-key-" + "x" * 30,
        ),
        engine=engine,
    )
    add_source(engine)
    bad = RejectedRecord(
        reason="unparseable date 'mary.jones@example.com'", excerpt="mary.jones@example.com,,"
    )
    from app.ingest.service import run_sync

    run_sync(
        engine,
        source_id="src",
        connector=ListConnector([(records(), [bad])]),
        enricher=rt.enricher,
        journey=rt.journey,
        policy=rt.policy,
    )
    return rt


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime, start_scheduler=False)) as test_client:
        test_client.headers.update(admin_headers(runtime.engine))
        yield test_client


def dump(engine: Engine) -> str:
    with engine.connect() as conn:
        rows = [
            repr(conn.execute(text(f"SELECT * FROM {t}")).all())
            for t in ("items", "quarantine", "voice_facts", "daily_customers", "customer_ids")
        ]
    return "\n".join(rows)


def test_no_raw_personal_data_in_the_store(runtime: Runtime) -> None:
    stored = dump(runtime.engine)
    for raw in ("mary.jones", "Mary.Jones", "7700 900123", "7700900123"):
        assert raw not in stored, raw
    assert "crm-1001" in stored  # a CRM id is not personal data: kept for joins
    with runtime.engine.connect() as conn:
        customers = conn.execute(text("SELECT COUNT(DISTINCT author_ref) FROM items")).scalar()
    assert customers == 3  # the two spellings of one e-mail are one customer


def test_pseudonyms_are_keyed_and_normalised() -> None:
    one, other = Pseudonyms(b"a" * 32), Pseudonyms(b"b" * 32)
    assert one.of("Ana@Example.com ") == one.of("ana@example.com")
    assert one.of("+44 7700 900123") == one.of("+447700900123")
    assert one.of("ana@example.com") != other.of("ana@example.com")
    assert is_personal_reference("crm-1001") is None
    assert is_personal_reference("12345") is None
    assert is_personal_reference("0044 20 7946 0958") == "phone"


def test_erasure_removes_a_customer_and_keeps_the_story_consistent(
    client: TestClient, runtime: Runtime
) -> None:
    from app.outcomes.service import import_rows

    event = {"customer": "mary.jones@example.com", "event": "joined", "occurred_at": "2026-01-02"}
    import_rows(runtime.engine, [event], origin="test", policy=runtime.policy)
    answer = client.delete("/api/v1/customers/MARY.JONES@example.com")
    assert answer.status_code == 200
    assert answer.json()["items"] == 6  # both spellings: one person
    assert answer.json()["outcomes"] == 1
    with runtime.engine.connect() as conn:
        left = conn.execute(text("SELECT COUNT(*) FROM items")).scalar()
    assert left == 6
    story = client.get("/api/v1/story").json()
    assert story["voices"] == 6
    incremental = snapshot(runtime.engine)
    from app.readmodel.maintain import rebuild

    rebuild(runtime.engine)
    assert snapshot(runtime.engine) == incremental
    assert set(READ_MODEL_TABLES) >= {"stage_daily", "voice_facts"}
    assert client.delete("/api/v1/customers/nobody@example.com").json()["items"] == 0
    log = client.get("/api/v1/audit").json()
    erase = next(e for e in log if e["action"] == "customer.erase")
    assert "mary" not in repr(erase).lower()


def test_erasure_takes_the_customer_s_quotes_out_of_alerts_and_their_messages(
    client: TestClient, runtime: Runtime
) -> None:
    """An alert quotes voices and its webhook messages copy them: after erasure the
    erased customer's words are in neither, the other customers' quotes stay."""
    from sqlmodel import Session, select

    from app.alerts import delivery
    from app.models import Alert, AlertDelivery

    with runtime.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, external_id, text FROM items")).all()
    by_external = {external: (int(item_id), said) for item_id, external, said in rows}
    marys, others = by_external["r-0"], by_external["r-1"]  # e-mail, then phone
    assert marys[1] != others[1]
    with Session(runtime.engine) as session:
        alert = Alert(
            key="negative_surge:billing",
            detector="negative_surge",
            stage="billing",
            measure="negative voices",
            value=9,
            baseline=2,
            low=0,
            high=5,
            fired_day=DAY.date(),
            last_day=DAY.date(),
            quotes=[
                {"item_id": item_id, "text": said, "channel": "survey"}
                for item_id, said in (marys, others)
            ],
        )
        session.add(alert)
        session.flush()
        for form, payload in (
            ("slack", delivery.slack_payload([alert], "http://lp")),
            ("cloudevents", delivery.cloudevent([alert], "http://lp", "e-1")),
        ):
            session.add(
                AlertDelivery(webhook=form, format=form, alert_ids=[alert.id], payload=payload)
            )
        session.commit()
    before = client.get("/api/v1/story").json()["alerts"]
    assert [q["text"] for q in before[0]["quotes"]] == [marys[1], others[1]]
    assert client.delete("/api/v1/customers/mary.jones@example.com").status_code == 200
    after = client.get("/api/v1/story").json()["alerts"]
    assert [q["text"] for q in after[0]["quotes"]] == [others[1]]
    with Session(runtime.engine) as session:
        messages = session.exec(select(AlertDelivery)).all()
        assert len(messages) == 2
        for message in messages:
            assert marys[1] not in repr(message.payload)
            assert others[1] in repr(message.payload)


def test_retention_deletes_the_old_and_keeps_the_read_model_exact(runtime: Runtime) -> None:
    gone = purge_before(runtime.engine, DAY + timedelta(days=5))
    assert gone.items == 5
    incremental = snapshot(runtime.engine)
    from app.readmodel.maintain import rebuild

    rebuild(runtime.engine)
    assert snapshot(runtime.engine) == incremental


def test_the_leader_purges_daily_and_logs_what_it_did(runtime: Runtime) -> None:
    from sqlmodel import Session, select

    from app.customers.erasure import retention_cutoff
    from app.models import AuditEntry, Item
    from app.scheduler import RETENTION_JOB, SourceScheduler

    scheduler = SourceScheduler(runtime.jobs, retention_days=30)
    scheduler.start()
    try:
        job = scheduler._scheduler.get_job(RETENTION_JOB)
        assert job is not None
        assert job.next_run_time is not None
    finally:
        scheduler.shutdown()  # waits for a start-up sync, if one began
    scheduler._run("pulse-survey")  # what a tick runs

    def said() -> list[datetime]:
        with Session(runtime.engine) as session:
            return [i.occurred_at for i in session.exec(select(Item)).all()]

    old = sum(moment < retention_cutoff(30) for moment in said())
    assert old >= 12
    scheduler._purge()  # what the daily job runs
    assert all(moment >= retention_cutoff(30) for moment in said())
    with Session(runtime.engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "retention.purge")).one()
        syncs = session.exec(select(AuditEntry).where(AuditEntry.action == "source.sync")).all()
    assert entry.actor == "leader"
    assert entry.detail["items"] == old
    assert syncs  # the scheduled syncs are the leader's too
    without = SourceScheduler(runtime.jobs)
    without.start()
    try:
        assert without._scheduler.get_job(RETENTION_JOB) is None  # unset: the job goes
    finally:
        without.shutdown()
