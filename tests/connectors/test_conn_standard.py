"""The standard suite: every registered kind runs `connectors.testing.ConnectorTests`
(after meltano's standard tap tests), the tests chosen by its capabilities. A kind's
data comes from its factory in kit.py (files) or live.py (HTTP APIs)."""

from __future__ import annotations

from connectors.registry import available_kinds, get_connector_class
from connectors.testing import make_test_class
from tests.connectors.kit import FACTORIES

KINDS = available_kinds()


def test_every_registered_kind_has_a_factory() -> None:
    assert set(KINDS) <= set(FACTORIES), "add a factory for each new kind to kit.FACTORIES"
    assert {"survey_file", "social_export", "call_notes", "ethnography"} <= set(KINDS)


for _kind in KINDS:
    if _kind in FACTORIES:
        globals()[f"Test_{_kind}"] = make_test_class(get_connector_class(_kind), FACTORIES[_kind])
