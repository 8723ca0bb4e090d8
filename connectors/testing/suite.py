"""The standard connector tests (after `singer_sdk.testing`), chosen by capability.

A connector's tests subclass `ConnectorTests` (or call `make_test_class`) with its
class and a scenario factory; pytest then runs every test that fits the kind:

    from connectors.testing import ConnectorTests, Scenario, ScenarioContext

    def scenario(ctx: ScenarioContext) -> Scenario:
        ...  # write files under ctx.base_dir, or start a FakeServer; with ctx.bad,
        ...  # include exactly one record that must be quarantined
        return Scenario(config={...}, item_ids=[...], bad_records=1 if ctx.bad else 0)

    class TestAcme(ConnectorTests):
        connector_class = AcmeConnector
        factory = staticmethod(scenario)

Every kind: kind/channel declared, config refuses unknown keys and names each
missing required key, every config field documented, first sync, idempotent
re-sync (nothing from the final cursor), resume after a crash after each batch
(exactly the rest: nothing lost, nothing repeated), one bad record quarantined
and the rest through, secrets never in any output. `files`: batch-size bounds,
locations and cursor keys relative to the root, a missing path fatal, symlinks
out of the folder never read. `http` (the scenario has a `FakeServer`): 5xx and
truncated answers retried, 429 waits `Retry-After`, an answer slower than the
timeout retried, 401 fatal at once, retries running out end the run with a
`RetriableError` whose delay is set and the next run resumes, a repeated page
neither loses nor (beyond dedupe) doubles anything; loopback (the `FakeServer`)
is refused without the `allow_networks` the suite adds (`LOOPBACK`), with no
request sent. `push`: a batch accepted per
record, idempotent on ids, a bad record refused alone, an oversized batch refused.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any, ClassVar

import pytest

from connectors.contract import Batch, Connector, Cursor, RawItem, RejectedRecord
from connectors.errors import (
    BatchTooLargeError,
    ConfigError,
    ConnectorError,
    FatalError,
    NetworkRefusedError,
    RetriableError,
)
from connectors.http import HttpConnector, Retrying
from connectors.network import ALLOW_KEY
from connectors.testing.server import LOOPBACK, FakeServer, Fault

# --------------------------------------------------------------------------- helpers


def run(connector: Connector[Any], cursor: Cursor | None = None) -> list[Batch]:
    """Every batch of one fetch, checking each cursor survives a JSON round trip."""
    batches = list(connector.fetch(cursor))
    for batch in batches:
        assert json.loads(json.dumps(batch.cursor)) == batch.cursor
    return batches


def items(batches: Iterable[Batch]) -> list[RawItem]:
    return [item for batch in batches for item in batch.items]


def rejects(batches: Iterable[Batch]) -> list[RejectedRecord]:
    return [rej for batch in batches for rej in batch.rejected]


def ids(batches: Iterable[Batch]) -> list[str]:
    return [item.external_id for item in items(batches)]


class FakeClock:
    """A clock that only moves when slept on: backoff and rate limits without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)

    def __call__(self) -> float:
        return self.now


def instrument(connector: Connector[Any], clock: FakeClock | None = None) -> FakeClock:
    """Make an HTTP connector sleep on a `FakeClock` (returned) with fixed jitter."""
    clock = clock or FakeClock()
    if isinstance(connector, HttpConnector):
        connector.retrying = Retrying(sleep=clock.sleep, clock=clock, rng=random.Random(16))
    return clock


# --------------------------------------------------------------------------- scenarios


@dataclass
class ScenarioContext:
    """What a factory gets: a folder of its own, whether to include one bad record,
    and a secret value to use for any token (the suite checks it never leaks)."""

    base_dir: Path
    bad: bool
    secret: str = "s3cr3t-T0KEN-never-shown-4711"
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def serve(self, server: FakeServer) -> FakeServer:
        """Start `server` and stop it when the test ends."""
        server.start()
        self.cleanups.append(server.stop)
        return server


@dataclass
class Scenario:
    """The config that reads the scenario's data, and what must come out of it.

    `small_batches`: config overrides that make more than one batch (files:
    `batch_size: 2`; HTTP: `page_size: 2`). `server`: the fake API (HTTP kinds).
    `env`: environment variables the config names (tokens). `secrets`: values that
    must never appear in any output. `push_records`: a batch to post (push kinds),
    with `item_ids` the ids it must give.
    """

    config: dict[str, Any]
    item_ids: list[str]
    bad_records: int = 0
    small_batches: dict[str, Any] = field(default_factory=dict)
    server: FakeServer | None = None
    env: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    push_records: list[Any] | None = None
    base_dir: Path = field(default=Path("."))  # set by the suite: the factory's folder


Factory = Callable[[ScenarioContext], Scenario]


# --------------------------------------------------------------------------- the suite


class ConnectorTests:
    """Subclass with `connector_class` and `factory` (a `Factory`); name it `Test...`."""

    connector_class: ClassVar[type[Connector[Any]]]
    factory: ClassVar[Factory]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "connector_class", None) is not None:
            _drop_other_capabilities(cls)

    # -- fixtures and plumbing ---------------------------------------------------

    @pytest.fixture
    def make(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[Callable[[bool], Scenario]]:
        contexts: list[ScenarioContext] = []

        def make(bad: bool = False) -> Scenario:
            ctx = ScenarioContext(base_dir=tmp_path / f"s{len(contexts)}", bad=bad)
            ctx.base_dir.mkdir(parents=True)
            contexts.append(ctx)
            scenario = type(self).factory(ctx)
            scenario.base_dir = ctx.base_dir
            for name, value in scenario.env.items():
                monkeypatch.setenv(name, value)
            return scenario

        yield make
        for ctx in contexts:
            for cleanup in reversed(ctx.cleanups):
                cleanup()

    @pytest.fixture
    def scenario(self, make: Callable[[bool], Scenario]) -> Scenario:
        return make(False)

    @pytest.fixture
    def bad_scenario(self, make: Callable[[bool], Scenario]) -> Scenario:
        return make(True)

    def caps(self) -> frozenset[str]:
        return self.connector_class.capabilities

    def need(self, capability: str) -> None:
        if capability not in self.caps():
            pytest.skip(f"{self.connector_class.kind} has no {capability!r} capability")

    def pulls(self) -> None:
        if "push" in self.caps():
            pytest.skip("a push kind pulls nothing")

    def build(self, scenario: Scenario, base_dir: Path, **overrides: Any) -> Connector[Any]:
        """The kind built from the scenario's config (plus `overrides`); an HTTP kind's
        config allows loopback (`LOOPBACK`: the `FakeServer`) unless it says otherwise."""
        config = {**scenario.config, **overrides}
        if "http" in self.caps() and ALLOW_KEY not in config:
            config.update(LOOPBACK)
        connector = self.connector_class.from_mapping(config, base_dir=base_dir)
        instrument(connector)
        return connector

    # -- every kind ----------------------------------------------------------------

    def test_kind_and_channel_are_declared(self) -> None:
        cls = self.connector_class
        assert isinstance(cls.kind, str)
        assert cls.kind
        assert isinstance(cls.channel, str)
        assert cls.channel
        assert cls.capabilities <= {"files", "http", "push", "secrets"}

    def test_config_rejects_unknown_keys(self, scenario: Scenario, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="colour") as info:
            self.build(scenario, tmp_path, colour="red")
        assert self.connector_class.kind in str(info.value)

    def test_config_requires_each_required_key(self, scenario: Scenario, tmp_path: Path) -> None:
        schema = self.connector_class.config_model.model_json_schema()
        for key in schema.get("required", []):
            partial = {k: v for k, v in scenario.config.items() if k != key}
            with pytest.raises(ConfigError) as info:
                self.connector_class.from_mapping(partial, base_dir=tmp_path)
            assert key in str(info.value)

    def test_config_schema_documents_every_field(self) -> None:
        schema = self.connector_class.config_model.model_json_schema()
        assert schema.get("additionalProperties") is False
        undocumented = [k for k, v in schema["properties"].items() if not v.get("description")]
        assert undocumented == []

    def test_first_sync_yields_the_items(self, scenario: Scenario) -> None:
        self.pulls()
        batches = run(self.build(scenario, scenario.base_dir))
        assert ids(batches) == scenario.item_ids
        assert rejects(batches) == []
        for item in items(batches):
            assert item.text.strip()
            assert item.occurred_at.tzinfo is UTC

    def test_resync_from_the_final_cursor_yields_nothing(self, scenario: Scenario) -> None:
        self.pulls()
        connector = self.build(scenario, scenario.base_dir)
        batches = run(connector)
        assert batches
        again = run(connector, json.loads(json.dumps(batches[-1].cursor)))
        assert ids(again) == []
        assert rejects(again) == []

    @pytest.mark.parametrize("bad", [False, True])
    def test_resume_after_a_crash_after_each_batch_delivers_exactly_the_rest(
        self, make: Callable[[bool], Scenario], bad: bool
    ) -> None:
        self.pulls()
        scenario = make(bad)
        base = scenario.base_dir
        connector = self.build(scenario, base, **scenario.small_batches)
        full = run(connector)
        assert len(full) >= 2, "the scenario must make more than one batch with small_batches"
        for crash_after in range(len(full)):
            stream = connector.fetch(None)  # the consumer dies after batch `crash_after`
            delivered = [next(stream) for _ in range(crash_after + 1)]
            getattr(stream, "close", lambda: None)()  # a generator: its client closes
            assert [b.cursor for b in delivered] == [b.cursor for b in full[: crash_after + 1]]
            resumed = run(connector, json.loads(json.dumps(delivered[-1].cursor)))
            before, after = ids(delivered), ids(resumed)
            assert set(before).isdisjoint(after), "records repeated after resuming"
            assert before + after == ids(full), "records lost or reordered after resuming"
            rejected = [r.location for r in rejects(delivered) + rejects(resumed)]
            assert len(rejected) == len(rejects(full))
        assert len(items(full)) + len(rejects(full)) >= len(scenario.item_ids)
        assert len(rejects(full)) == scenario.bad_records

    def test_bad_record_is_quarantined_and_the_rest_come_through(
        self, bad_scenario: Scenario, tmp_path: Path
    ) -> None:
        self.pulls()
        batches = run(self.build(bad_scenario, bad_scenario.base_dir))
        assert ids(batches) == bad_scenario.item_ids
        bad = rejects(batches)
        assert len(bad) == bad_scenario.bad_records == 1
        assert bad[0].reason
        assert bad[0].location
        assert bad[0].excerpt
        assert str(tmp_path) not in repr(bad) + repr(batches[-1].cursor)

    def test_secrets_never_in_output(
        self, scenario: Scenario, caplog: pytest.LogCaptureFixture
    ) -> None:
        if not scenario.secrets:
            pytest.skip("the scenario uses no secret")
        caplog.set_level(logging.DEBUG)
        connector = self.build(scenario, scenario.base_dir)
        seen: list[str] = [repr(connector.config), connector.config.model_dump_json()]
        if "push" in self.caps():
            seen.append(repr(getattr(connector, "accept")(scenario.push_records or [])))  # noqa: B009
        else:
            batches = run(connector)
            seen += [repr(batches), json.dumps([b.cursor for b in batches])]
        if scenario.server is not None:
            scenario.server.inject(Fault.unauthorized(401))
            try:
                run(connector)
            except ConnectorError as exc:
                seen.append(str(exc))
            scenario.server.inject(*[Fault.server_error(500)] * 30)
            try:
                run(connector)
            except ConnectorError as exc:
                seen.append(str(exc))
            scenario.server.clear_faults()
        seen.append(caplog.text)
        everything = "\n".join(seen)
        for secret in scenario.secrets:
            assert secret not in everything

    # -- files -------------------------------------------------------------------

    @pytest.mark.parametrize("size", [0, 10_001, "many"])
    def test_files_config_bounds_batch_size(
        self, scenario: Scenario, tmp_path: Path, size: object
    ) -> None:
        self.need("files")
        with pytest.raises(ConfigError, match="batch_size"):
            self.build(scenario, tmp_path, batch_size=size)

    def test_files_each_batch_respects_batch_size(self, bad_scenario: Scenario) -> None:
        self.need("files")
        batches = run(self.build(bad_scenario, bad_scenario.base_dir, batch_size=2))
        assert all(len(b.items) + len(b.rejected) <= 2 for b in batches)
        assert all(len(b.items) + len(b.rejected) == 2 for b in batches[:-1])

    def test_files_locations_and_cursor_keys_are_relative_to_the_root(
        self, bad_scenario: Scenario, tmp_path: Path
    ) -> None:
        self.need("files")
        base = bad_scenario.base_dir
        batches = run(self.build(bad_scenario, base, path=str(base / "data")))
        assert ids(batches) == bad_scenario.item_ids
        keys = list(batches[-1].cursor["files"])
        assert keys
        assert all(not k.startswith(("/", "data/")) and (base / "data" / k).is_file() for k in keys)
        (bad,) = rejects(batches)
        assert (bad.location or "").split(":")[0] in keys
        assert not (bad.location or "").startswith(("data/", "/"))
        assert str(tmp_path) not in repr(batches)

    def test_files_missing_path_is_fatal_quoting_the_configured_path(
        self, scenario: Scenario, tmp_path: Path
    ) -> None:
        self.need("files")
        connector = self.build(scenario, scenario.base_dir, path="nowhere/here")
        with pytest.raises(FatalError, match="`path: nowhere/here` does not exist") as info:
            run(connector)
        assert str(tmp_path) not in str(info.value)

    def test_files_symlink_out_of_the_folder_is_never_read(self, scenario: Scenario) -> None:
        self.need("files")
        base = scenario.base_dir
        first = sorted(p for p in (base / "data").iterdir() if p.is_file())[0]
        outside = base / "outside" / first.name
        outside.parent.mkdir()
        outside.write_bytes(first.read_bytes())
        (base / "data" / f"zz-link{first.suffix}").symlink_to(outside)
        for follow in (False, True):
            batches = run(self.build(scenario, base, follow_symlinks=follow))
            assert ids(batches) == scenario.item_ids
            assert rejects(batches) == []
            assert not any("zz-link" in key for key in batches[-1].cursor["files"])

    # -- http --------------------------------------------------------------------

    def served(self, scenario: Scenario) -> FakeServer:
        self.need("http")
        if scenario.server is None:
            pytest.skip("the scenario has no FakeServer")
        return scenario.server

    def test_http_server_errors_are_retried(self, scenario: Scenario) -> None:
        server = self.served(scenario)
        connector = self.build(scenario, scenario.base_dir, **scenario.small_batches)
        clean = ids(run(connector))
        server.inject(Fault.server_error(500), Fault.server_error(502), Fault.server_error(503))
        clock = instrument(connector)
        assert ids(run(connector)) == clean
        assert len(clock.sleeps) == 3
        assert all(0 < s <= 60 for s in clock.sleeps)
        assert server.faults_served == ["status 500", "status 502", "status 503"]

    def test_http_429_waits_what_retry_after_says(self, scenario: Scenario) -> None:
        server = self.served(scenario)
        connector = self.build(scenario, scenario.base_dir, **scenario.small_batches)
        clean = ids(run(connector))
        clock = instrument(connector)
        server.inject(Fault.rate_limited(7))
        assert ids(run(connector)) == clean
        assert clock.sleeps == [7.0]

    def test_http_429_longer_than_the_limit_ends_the_run_with_that_delay(
        self, scenario: Scenario
    ) -> None:
        server = self.served(scenario)
        connector = self.build(
            scenario, scenario.base_dir, max_retry_after_seconds=60, **scenario.small_batches
        )
        server.inject(Fault.rate_limited(3600))
        with pytest.raises(RetriableError) as info:
            run(connector)
        assert info.value.delay == pytest.approx(3600)

    def test_http_slow_answer_times_out_and_is_retried(self, scenario: Scenario) -> None:
        server = self.served(scenario)
        connector = self.build(
            scenario, scenario.base_dir, timeout_seconds=0.3, **scenario.small_batches
        )
        clean = ids(run(connector))
        server.inject(Fault.slow(1.0))
        clock = instrument(connector)
        assert ids(run(connector)) == clean
        assert len(clock.sleeps) == 1

    def test_http_truncated_answer_is_retried(self, scenario: Scenario) -> None:
        server = self.served(scenario)
        connector = self.build(scenario, scenario.base_dir, **scenario.small_batches)
        clean = ids(run(connector))
        for at in range(1, server.request_count + 1):  # each request of a run, cut once
            clock = instrument(connector)
            server.inject(Fault.truncated(), at=at)
            assert ids(run(connector)) == clean, f"request {at} cut short"
            assert len(clock.sleeps) == 1

    def test_http_loopback_is_refused_unless_the_source_allows_it(self, scenario: Scenario) -> None:
        server = self.served(scenario)
        before = server.request_count
        connector = self.build(scenario, scenario.base_dir, **{ALLOW_KEY: []})
        clock = instrument(connector)
        with pytest.raises(NetworkRefusedError, match=f"loopback.*{ALLOW_KEY}"):
            run(connector)
        assert server.request_count == before, "a request reached the refused address"
        assert clock.sleeps == []  # refused, never retried
        elsewhere = self.build(scenario, scenario.base_dir, **{ALLOW_KEY: ["10.0.0.0/8"]})
        with pytest.raises(NetworkRefusedError):
            run(elsewhere)  # another private network allowed is not loopback allowed

    def test_http_refused_token_fails_at_once(self, scenario: Scenario) -> None:
        server = self.served(scenario)
        connector = self.build(scenario, scenario.base_dir)
        server.inject(Fault.unauthorized(401))
        clock = instrument(connector)
        with pytest.raises(FatalError, match="401") as info:
            run(connector)
        assert clock.sleeps == []
        for secret in scenario.secrets:
            assert secret not in str(info.value)

    def test_http_retries_run_out_and_the_next_run_resumes(self, scenario: Scenario) -> None:
        server = self.served(scenario)
        connector = self.build(scenario, scenario.base_dir, max_retries=2, **scenario.small_batches)
        clean = ids(run(connector))
        server.inject(*[Fault.server_error(500)] * 3)  # the first request never gets through
        with pytest.raises(RetriableError) as info:
            run(connector)
        assert info.value.delay > 0
        stream = connector.fetch(None)  # and mid-run: after the first batch
        delivered = [next(stream)]
        server.inject(*[Fault.server_error(500)] * 3)
        delays: list[float] = []
        try:
            delivered.extend(stream)
        except RetriableError as exc:
            delays.append(exc.delay)
        assert all(d > 0 for d in delays)
        server.clear_faults()  # a kind that reads one document has no request after a batch
        resumed = run(connector, delivered[-1].cursor)
        assert ids(delivered) + ids(resumed) == clean  # nothing lost, nothing twice

    def test_http_repeated_page_loses_nothing(self, scenario: Scenario) -> None:
        server = self.served(scenario)
        connector = self.build(scenario, scenario.base_dir, **scenario.small_batches)
        clean = ids(run(connector))
        for at in range(2, server.request_count + 1):  # each request answers the one before
            delivered: list[Batch] = []
            server.inject(Fault.repeat(), at=at)
            try:
                delivered.extend(connector.fetch(None))
            except FatalError:  # a loop guard stopped it: the next run resumes
                pass
            server.clear_faults()
            resumed = run(connector, delivered[-1].cursor if delivered else None)
            got = ids(delivered) + ids(resumed)
            assert set(got) == set(clean), f"request {at} repeated"  # a repeat is for dedupe

    # -- push --------------------------------------------------------------------

    def pushed(self, scenario: Scenario) -> list[Any]:
        self.need("push")
        assert scenario.push_records is not None, "a push scenario needs push_records"
        return scenario.push_records

    def test_push_accepts_each_record(self, scenario: Scenario, tmp_path: Path) -> None:
        records = self.pushed(scenario)
        result = getattr(self.build(scenario, tmp_path), "accept")(records)  # noqa: B009
        assert [i.external_id for i in result.batch.items] == scenario.item_ids
        assert [r.status for r in result.results] == ["accepted"] * len(records)
        assert run(self.build(scenario, tmp_path)) == []  # nothing to pull

    def test_push_is_idempotent_on_record_ids(self, scenario: Scenario, tmp_path: Path) -> None:
        records = self.pushed(scenario)
        connector = self.build(scenario, tmp_path)
        first = getattr(connector, "accept")(records)  # noqa: B009
        again = getattr(connector, "accept")(json.loads(json.dumps(records)))  # noqa: B009
        assert [i.external_id for i in again.batch.items] == [
            i.external_id for i in first.batch.items
        ]

    def test_push_refuses_a_bad_record_alone(self, bad_scenario: Scenario, tmp_path: Path) -> None:
        records = self.pushed(bad_scenario)
        result = getattr(self.build(bad_scenario, tmp_path), "accept")(records)  # noqa: B009
        assert [i.external_id for i in result.batch.items] == bad_scenario.item_ids
        assert len(result.batch.rejected) == bad_scenario.bad_records == 1
        (bad,) = [r for r in result.results if r.status == "rejected"]
        assert bad.reason

    def test_push_refuses_an_oversized_batch(self, scenario: Scenario, tmp_path: Path) -> None:
        records = self.pushed(scenario)
        connector = self.build(scenario, tmp_path, max_records=max(1, len(records) - 1))
        with pytest.raises(BatchTooLargeError):
            getattr(connector, "accept")(records)  # noqa: B009


def make_test_class(connector_class: type[Connector[Any]], factory: Factory) -> type:
    """A `ConnectorTests` subclass for one kind (collect it under a `Test...` name)."""
    return type(
        f"Test_{connector_class.kind}",
        (ConnectorTests,),
        {"connector_class": connector_class, "factory": staticmethod(factory)},
    )


_PULL_TESTS = frozenset(
    {
        "test_first_sync_yields_the_items",
        "test_resync_from_the_final_cursor_yields_nothing",
        "test_resume_after_a_crash_after_each_batch_delivers_exactly_the_rest",
        "test_bad_record_is_quarantined_and_the_rest_come_through",
    }
)
_BY_CAPABILITY = {"test_files_": "files", "test_http_": "http", "test_push_": "push"}


def _drop_other_capabilities(cls: type[ConnectorTests]) -> None:
    """Hide (rather than skip) the tests of capabilities the kind does not have."""
    caps = cls.connector_class.capabilities
    for name in dir(cls):
        for prefix, capability in _BY_CAPABILITY.items():
            if name.startswith(prefix) and capability not in caps:
                setattr(cls, name, None)
        if name == "test_secrets_never_in_output" and not caps & {"secrets"}:
            setattr(cls, name, None)
        if name in _PULL_TESTS and "push" in caps:
            setattr(cls, name, None)
