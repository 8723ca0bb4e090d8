"""Scenario factories of the HTTP kinds for the standard suite: each starts a fake
vendor API (`connectors.testing.vendors`) on a real local server."""

from __future__ import annotations

from collections.abc import Callable

from connectors.testing import FakeServer, Scenario, ScenarioContext
from connectors.testing.vendors import FakeMastodon, mastodon_status


def mastodon_scenario(ctx: ScenarioContext) -> Scenario:
    statuses = [
        mastodon_status(1001, "<p>Checkout froze twice</p>", tags=("acme",), favourites=3),
        mastodon_status(1002, "<p>Great <b>app</b></p>", tags=("acme",), reblogs=2),
        mastodon_status(1003, "<p>Refund still pending</p>", tags=("acme", "billing")),
        mastodon_status(1005, "<p>Renewed today</p>", tags=("acme",), replies=1),
        mastodon_status(1006, "<p>Support was kind</p>", tags=("acme",)),
        mastodon_status(1007, "<p>Setup took minutes</p>", tags=("acme",)),
    ]
    if ctx.bad:
        broken = mastodon_status(1004, "<p>No id on this one</p>", tags=("acme",))
        broken["id"], broken["_pos"] = None, "1004"
        statuses.insert(3, broken)
    server = ctx.serve(FakeServer(FakeMastodon(statuses, token=ctx.secret)))
    return Scenario(
        config={"base_url": server.url, "hashtag": "acme", "token_env": "LP_TEST_MASTODON_TOKEN"},
        item_ids=["1001", "1002", "1003", "1005", "1006", "1007"],
        bad_records=1 if ctx.bad else 0,
        small_batches={"page_size": 2},
        server=server,
        env={"LP_TEST_MASTODON_TOKEN": ctx.secret},
        secrets=[ctx.secret],
    )


HTTP_FACTORIES: dict[str, Callable[[ScenarioContext], Scenario]] = {
    "mastodon": mastodon_scenario,
}


