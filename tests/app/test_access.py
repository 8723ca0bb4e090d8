"""Access (both databases): API keys with scopes, refused without, and the rules
that keep a demo on a laptop open and a service on a network closed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.main import create_app
from app.models import ApiKey, AuditEntry
from app.runtime import Runtime, build_runtime
from app.security import keys
from app.security.exposure import ExposureError, check_exposure
from app.settings import Settings
from tests.app.helpers import admin_headers
from tests.conftest import FIXTURES

PUSH = """
  - id: web-form
    name: Feedback form
    kind: push
    config: {max_records: 5}
"""


def _runtime(engine: Engine, tmp_path: Path, **settings: object) -> Runtime:
    sources = tmp_path / "sources.yaml"
    text = (FIXTURES / "app" / "sources.yaml").read_text(encoding="utf-8")
    text = text.replace("path: survey/", f"path: {FIXTURES / 'app'}/survey/").replace(
        "path: notes", f"path: {FIXTURES / 'app'}/notes"
    )
    sources.write_text(text.replace("sources:\n", "sources:\n" + PUSH, 1), encoding="utf-8")
    return build_runtime(
        Settings(
            database_url=str(engine.url),
            sources_file=sources,
            scheduler_enabled=False,
            **settings,  # type: ignore[arg-type]
        ),
        engine=engine,
    )


@pytest.fixture
def runtime(engine: Engine, tmp_path: Path) -> Runtime:
    return _runtime(engine, tmp_path)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime, start_scheduler=False)) as test_client:
        yield test_client


def test_a_demo_on_loopback_reads_without_a_key_but_admin_always_needs_one(
    client: TestClient,
) -> None:
    assert client.get("/api/v1/story").status_code == 200
    assert client.get("/").status_code == 200
    for method, path in [
        ("get", "/api/v1/sources"),
        ("post", "/api/v1/sources/pulse-survey/sync"),
        ("get", "/api/v1/quarantine"),
        ("get", "/api/v1/keys"),
        ("get", "/api/v1/audit"),
        ("post", "/api/v1/sources/web-form/items"),
    ]:
        answer = getattr(client, method)(path)
        assert answer.status_code == 401, path
        assert "listening-path keys create" in answer.json()["detail"]
        assert answer.headers["www-authenticate"].startswith("Bearer")


def test_once_a_key_exists_reads_need_one_too_and_scopes_decide(
    client: TestClient, engine: Engine
) -> None:
    reader = admin_headers(engine, "read")
    assert client.get("/api/v1/story").status_code == 401
    assert client.get("/api/v1/story", headers=reader).status_code == 200
    as_x_api_key = {"X-API-Key": reader["Authorization"].split()[1]}
    assert client.get("/api/v1/items", headers=as_x_api_key).status_code == 200
    refused = client.get("/api/v1/sources", headers=reader)
    assert refused.status_code == 403
    assert "needs 'admin'" in refused.json()["detail"]
    pusher = admin_headers(engine, "ingest")
    assert client.get("/api/v1/story", headers=pusher).status_code == 403
    pushed = client.post(
        "/api/v1/sources/web-form/items",
        json=[{"id": "a", "text": "The setup was quick."}],
        headers=pusher,
    )
    assert pushed.status_code == 200
    assert client.post("/api/v1/sources/pulse-survey/sync", headers=reader).status_code == 403
    wrong = {"Authorization": "Basic dXNlcjpwYXNz"}
    assert client.get("/api/v1/story", headers=wrong).status_code == 401
    unknown = {"Authorization": "Bearer lp_" + "x" * 43}
    assert "unknown or revoked" in client.get("/api/v1/story", headers=unknown).json()["detail"]


def test_keys_are_kept_hashed_listed_without_secrets_and_revoked(
    client: TestClient, engine: Engine
) -> None:
    admin = admin_headers(engine)
    made = client.post("/api/v1/keys", json={"name": "powerbi", "scopes": ["read"]}, headers=admin)
    assert made.status_code == 201
    secret = made.json()["secret"]
    assert secret.startswith("lp_")
    assert len(secret) > 40
    with Session(engine) as session:
        stored = session.exec(select(ApiKey).where(ApiKey.name == "powerbi")).one()
        assert secret not in stored.model_dump_json()
    listed = client.get("/api/v1/keys", headers=admin)
    assert secret not in listed.text
    assert {k["name"] for k in listed.json()} == {"tests", "powerbi"}
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/story", headers=bearer).status_code == 200
    assert client.delete(f"/api/v1/keys/{made.json()['prefix']}", headers=admin).status_code == 200
    assert client.get("/api/v1/story", headers=bearer).status_code == 401
    bad = client.post("/api/v1/keys", json={"name": "x", "scopes": ["root"]}, headers=admin)
    assert bad.status_code == 422
    assert "'read', 'ingest' or 'admin'" in bad.json()["detail"]
    assert client.delete("/api/v1/keys/lp_nothing", headers=admin).status_code == 404


def test_admin_actions_are_in_the_audit_log(client: TestClient, engine: Engine) -> None:
    admin = admin_headers(engine)
    assert client.post("/api/v1/sources/pulse-survey/sync", headers=admin).status_code == 200
    client.post("/api/v1/keys", json={"name": "bi", "scopes": ["read"]}, headers=admin)
    log = client.get("/api/v1/audit", headers=admin).json()
    actions = [(e["action"], e["target"]) for e in log]
    assert ("source.sync", "pulse-survey") in actions
    assert any(action == "key.create" and "bi" in target for action, target in actions)
    assert all(e["actor"].startswith("key:tests") for e in log)
    with Session(engine) as session:
        assert len(session.exec(select(AuditEntry)).all()) == len(log)


def test_a_cross_site_post_carries_no_credentials_and_cors_is_off(client: TestClient) -> None:
    """What a browser sends for a form on another site: no key, so refused; and no
    CORS header invites a script from there to read an answer."""
    attack = client.post(
        "/api/v1/sources/pulse-survey/sync",
        headers={"Origin": "https://evil.example", "Cookie": "session=whatever"},
    )
    assert attack.status_code == 401
    read = client.get("/api/v1/story", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in read.headers


def test_configured_origins_get_cors_without_credentials(engine: Engine, tmp_path: Path) -> None:
    runtime = _runtime(engine, tmp_path, cors_origins=["https://cx.example.com"])
    with TestClient(create_app(runtime=runtime, start_scheduler=False)) as client:
        answer = client.options(
            "/api/v1/story",
            headers={
                "Origin": "https://cx.example.com",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert answer.headers["access-control-allow-origin"] == "https://cx.example.com"
        assert "access-control-allow-credentials" not in answer.headers
        other = client.get("/api/v1/story", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_it_will_not_listen_on_a_network_without_a_key(runtime: Runtime, engine: Engine) -> None:
    check_exposure(runtime.settings, engine, "127.0.0.1")
    with pytest.raises(ExposureError, match="refusing to listen on 0.0.0.0"):
        check_exposure(runtime.settings, engine, "0.0.0.0")
    admin_headers(engine)
    check_exposure(runtime.settings, engine, "0.0.0.0")


def test_read_open_leaves_reads_to_a_proxy_but_not_admin(engine: Engine, tmp_path: Path) -> None:
    admin_headers(engine)
    runtime = _runtime(engine, tmp_path, read_open=True)
    with TestClient(create_app(runtime=runtime, start_scheduler=False)) as client:
        assert client.get("/api/v1/story").status_code == 200
        assert client.get("/api/v1/sources").status_code == 401


@contextmanager
def _key_reads(engine: Engine) -> Iterator[list[str]]:
    """The statements that read the key table, as the engine runs them."""
    seen: list[str] = []

    def record(*args: object) -> None:
        statement = str(args[2])
        if "api_keys" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_keys_are_checked_from_memory_and_a_revoke_elsewhere_holds_within_seconds(
    client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What another replica or the CLI does to the key table, this process sees
    within `FRESH_SECONDS`; its own requests meanwhile read no key row."""
    monkeypatch.setattr(keys, "FRESH_SECONDS", 0.6)
    reader = admin_headers(engine, "read")
    assert client.get("/api/v1/story", headers=reader).status_code == 200
    with _key_reads(engine) as reads:
        for _ in range(5):
            assert client.get("/api/v1/story", headers=reader).status_code == 200
        assert reads == []
    with engine.begin() as conn:  # revoked as another process would: not through this one
        conn.execute(update(ApiKey).values(revoked_at=datetime.now(UTC)))
    deadline = time.monotonic() + 5
    while client.get("/api/v1/story", headers=reader).status_code == 200:
        assert time.monotonic() < deadline, "a key revoked elsewhere still works after 5 s"
        time.sleep(0.05)
    refused = client.get("/api/v1/story", headers=reader)
    assert refused.status_code == 401
    assert "unknown or revoked" in refused.json()["detail"]


def test_a_key_made_by_another_process_works_at_once_and_use_is_recorded(
    client: TestClient, engine: Engine
) -> None:
    admin = admin_headers(engine)
    assert client.get("/api/v1/keys", headers=admin).status_code == 200
    time.sleep(keys.MISS_RELOAD_SECONDS)
    secret = keys.SECRET_PREFIX + "e" * 43
    with Session(engine) as session:  # as the CLI of another machine writes it
        session.add(
            ApiKey(
                name="elsewhere",
                prefix=secret[:10],
                secret_hash=keys.digest(secret),
                scopes=["read"],
            )
        )
        session.commit()
    made_elsewhere = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/story", headers=made_elsewhere).status_code == 200
    assert client.get("/api/v1/story", headers=made_elsewhere).status_code == 200
    with Session(engine) as session:
        used = session.exec(select(ApiKey).where(ApiKey.name == "elsewhere")).one()
        assert used.last_used_at is not None
        first_use = used.last_used_at
    assert client.get("/api/v1/story", headers=made_elsewhere).status_code == 200
    with Session(engine) as session:  # a hint, written once a minute, not per request
        used = session.exec(select(ApiKey).where(ApiKey.name == "elsewhere")).one()
        assert used.last_used_at == first_use
