"""The standard suite: every registered kind passes the same contract tests
(after meltano's standard tap tests). A kind's data comes from its factory in kit.py."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path

import pytest

from connectors.errors import ConfigError, FatalError
from connectors.registry import available_kinds, get_connector_class
from tests.connectors.kit import FACTORIES, build, ids, items, rejects, run

KINDS = available_kinds()


def test_every_registered_kind_has_a_factory() -> None:
    assert set(KINDS) <= set(FACTORIES), "add a factory for each new kind to kit.FACTORIES"
    assert {"survey_file", "social_export", "call_notes", "ethnography"} <= set(KINDS)


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    assert request.param in FACTORIES, f"no factory for kind {request.param!r} in kit.py"
    return str(request.param)


def test_config_rejects_unknown_keys(kind: str, tmp_path: Path) -> None:
    scenario = FACTORIES[kind](tmp_path, False)
    with pytest.raises(ConfigError, match="colour") as info:
        build(kind, {**scenario.config, "colour": "red"}, tmp_path)
    assert kind in str(info.value)


def test_config_requires_each_required_key(kind: str, tmp_path: Path) -> None:
    scenario = FACTORIES[kind](tmp_path, False)
    required = get_connector_class(kind).config_model.model_json_schema().get("required", [])
    assert "path" in required
    for key in required:
        partial = {k: v for k, v in scenario.config.items() if k != key}
        with pytest.raises(ConfigError) as info:
            build(kind, partial, tmp_path)
        assert key in str(info.value)
        assert "Field required" in str(info.value)


@pytest.mark.parametrize("size", [0, 10_001, "many"])
def test_config_bounds_batch_size(kind: str, tmp_path: Path, size: object) -> None:
    scenario = FACTORIES[kind](tmp_path, False)
    with pytest.raises(ConfigError, match="batch_size"):
        build(kind, {**scenario.config, "batch_size": size}, tmp_path)


def test_config_schema_documents_every_field(kind: str) -> None:
    schema = get_connector_class(kind).config_model.model_json_schema()
    assert schema.get("additionalProperties") is False
    undocumented = [k for k, v in schema["properties"].items() if not v.get("description")]
    assert undocumented == []


def test_first_fetch_yields_the_items(kind: str, tmp_path: Path) -> None:
    scenario = FACTORIES[kind](tmp_path, False)
    batches = run(build(kind, scenario.config, tmp_path))
    assert ids(batches) == scenario.item_ids
    assert rejects(batches) == []
    for item in items(batches):
        assert item.text.strip()
        assert item.occurred_at.tzinfo is UTC


def test_refetch_from_final_cursor_yields_nothing(kind: str, tmp_path: Path) -> None:
    scenario = FACTORIES[kind](tmp_path, False)
    connector = build(kind, scenario.config, tmp_path)
    final = run(connector)[-1].cursor
    again = run(connector, json.loads(json.dumps(final)))
    assert items(again) == []
    assert rejects(again) == []


@pytest.mark.parametrize("bad", [False, True])
def test_resume_after_each_batch_delivers_exactly_the_rest(
    kind: str, tmp_path: Path, bad: bool
) -> None:
    scenario = FACTORIES[kind](tmp_path, bad)
    connector = build(kind, {**scenario.config, "batch_size": 2}, tmp_path)
    full = run(connector)
    assert len(full) >= 2, "the factory must make more than one batch at batch_size 2"
    full_records = len(items(full)) + len(rejects(full))
    for crash_after in range(len(full)):
        # simulated crash: the consumer stops after batch `crash_after`
        stream = connector.fetch(None)
        delivered = [next(stream) for _ in range(crash_after + 1)]
        assert [b.cursor for b in delivered] == [b.cursor for b in full[: crash_after + 1]]
        resumed = run(connector, delivered[-1].cursor)
        before = ids(delivered)
        after = ids(resumed)
        assert set(before).isdisjoint(after)
        assert before + after == ids(full)
        rejected = [r.location for r in rejects(delivered) + rejects(resumed)]
        assert rejected == [r.location for r in rejects(full)]
    assert full_records == len(scenario.item_ids) + scenario.bad_records


def test_each_batch_respects_batch_size(kind: str, tmp_path: Path) -> None:
    scenario = FACTORIES[kind](tmp_path, True)
    batches = run(build(kind, {**scenario.config, "batch_size": 2}, tmp_path))
    assert all(len(b.items) + len(b.rejected) <= 2 for b in batches)
    assert all(len(b.items) + len(b.rejected) == 2 for b in batches[:-1])


def test_bad_record_is_rejected_and_the_rest_come_through(kind: str, tmp_path: Path) -> None:
    scenario = FACTORIES[kind](tmp_path, True)
    batches = run(build(kind, scenario.config, tmp_path))
    assert ids(batches) == scenario.item_ids
    bad = rejects(batches)
    assert len(bad) == scenario.bad_records == 1
    assert bad[0].reason
    assert bad[0].location
    assert not bad[0].location.startswith(("data/", "/"))  # relative to the source's root
    assert bad[0].excerpt
    assert str(tmp_path) not in repr(bad) + repr(batches[-1].cursor)


def test_locations_and_cursor_keys_are_relative_to_the_root(kind: str, tmp_path: Path) -> None:
    scenario = FACTORIES[kind](tmp_path, True)
    batches = run(build(kind, {**scenario.config, "path": str(tmp_path / "data")}, tmp_path))
    assert ids(batches) == scenario.item_ids
    keys = list(batches[-1].cursor["files"])
    assert keys
    assert all(not k.startswith(("/", "data/")) and (tmp_path / "data" / k).is_file() for k in keys)
    (bad,) = rejects(batches)
    assert (bad.location or "").split(":")[0] in keys
    assert str(tmp_path) not in repr(batches)


def test_missing_path_is_fatal_quoting_the_configured_path(kind: str, tmp_path: Path) -> None:
    scenario = FACTORIES[kind](tmp_path, False)
    connector = build(kind, {**scenario.config, "path": "nowhere/here"}, tmp_path)
    with pytest.raises(FatalError, match="`path: nowhere/here` does not exist") as info:
        run(connector)
    assert str(tmp_path) not in str(info.value)


def test_channel_is_declared(kind: str) -> None:
    cls = get_connector_class(kind)
    assert cls.kind == kind
    assert isinstance(cls.channel, str)
    assert cls.channel


def test_symlink_out_of_the_folder_is_never_read(kind: str, tmp_path: Path) -> None:
    scenario = FACTORIES[kind](tmp_path, False)
    first = sorted(p for p in (tmp_path / "data").iterdir() if p.is_file())[0]
    outside = tmp_path / "outside" / first.name
    outside.parent.mkdir()
    outside.write_bytes(first.read_bytes())
    (tmp_path / "data" / f"zz-link{first.suffix}").symlink_to(outside)
    for follow in (False, True):
        config = {**scenario.config, "follow_symlinks": follow}
        batches = run(build(kind, config, tmp_path))
        assert ids(batches) == scenario.item_ids
        assert rejects(batches) == []
        assert not any("zz-link" in key for key in batches[-1].cursor["files"])
