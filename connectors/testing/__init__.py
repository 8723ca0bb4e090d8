"""`connectors.testing`: what any connector, built-in or a third party's, tests with.

    suite.py    `ConnectorTests` / `make_test_class`: the standard tests, chosen by
                the kind's capabilities (files, http, push); `Scenario`,
                `ScenarioContext`; `run`, `items`, `rejects`, `ids`; `FakeClock`
    server.py   `FakeServer`: a real local HTTP server with injected `Fault`s;
                `LOOPBACK`, the config that lets a source reach it
    vendors.py  fake Mastodon, Typeform, Zendesk, feed and REST APIs for it

Importing this package needs pytest (a test dependency), so nothing in the
service imports it.
"""

from __future__ import annotations

from connectors.testing.server import LOOPBACK, FakeRequest, FakeResponse, FakeServer, Fault
from connectors.testing.suite import (
    ConnectorTests,
    Factory,
    FakeClock,
    Scenario,
    ScenarioContext,
    ids,
    instrument,
    items,
    make_test_class,
    rejects,
    run,
)

__all__ = [
    "LOOPBACK",
    "ConnectorTests",
    "Factory",
    "FakeClock",
    "FakeRequest",
    "FakeResponse",
    "FakeServer",
    "Fault",
    "Scenario",
    "ScenarioContext",
    "ids",
    "instrument",
    "items",
    "make_test_class",
    "rejects",
    "run",
]
