"""Scenario factories of the HTTP and push kinds for the standard suite: each HTTP one
starts a fake vendor API (`connectors.testing.vendors`) on a real local server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.testing import LOOPBACK, FakeServer, Scenario, ScenarioContext
from connectors.testing.vendors import (
    FakeFeed,
    FakeMastodon,
    FakeRest,
    FakeTypeform,
    FakeZendesk,
    FeedEntry,
    mastodon_status,
    typeform_response,
    zendesk_comment,
    zendesk_ticket,
)

DAY = datetime(2024, 6, 1, 9, 0, tzinfo=UTC)


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


def rss_scenario(ctx: ScenarioContext) -> Scenario:
    entries = [
        FeedEntry("rv-1", "★★★★★ Love it", "Setup took two minutes.", DAY, rating=5),
        FeedEntry("rv-2", "Crashes", "The app crashes every evening.", DAY, rating=2),
        FeedEntry(
            None, "Linked only", "Billing page is confusing.", DAY, link="https://r.example/3"
        ),
        FeedEntry("rv-4", "Fine", "Does the job.", DAY + timedelta(hours=1), rating=4),
        FeedEntry("rv-5", "Refund", "Still waiting for my refund.", DAY, rating=1),
    ]
    if ctx.bad:
        entries.insert(2, FeedEntry(None, "No id", "Neither id nor link here.", DAY))
    server = ctx.serve(FakeServer(FakeFeed(entries, atom=True)))
    return Scenario(
        config={"url": f"{server.url}/feed"},
        item_ids=["rv-1", "rv-2", "https://r.example/3", "rv-4", "rv-5"],
        bad_records=1 if ctx.bad else 0,
        small_batches={"page_size": 2},
        server=server,
    )


def typeform_scenario(ctx: ScenarioContext) -> Scenario:
    fake = FakeTypeform(token=ctx.secret)
    answers: list[dict[str, Any]] = [
        {"why": "Support answered fast", "nps": 9, "setup": "Easy"},
        {"why": "Too expensive", "nps": 3},
        {"setup": "The installer failed", "stars": 2},
        {"why": "Great product", "nps": 10, "effort": 6},
    ]
    for n, answer in enumerate(answers, start=1):
        fake.responses.append(
            typeform_response(
                f"tok{n}",
                submitted_at=DAY + timedelta(minutes=n),
                hidden={"customer_id": f"cust-{n}", "plan": "pro"},
                **answer,
            )
        )
    if ctx.bad:
        broken = typeform_response("tokX", submitted_at=DAY + timedelta(minutes=2, seconds=30))
        broken["answers"].append(
            {
                "field": {"id": "f_why", "type": "long_text", "ref": "why"},
                "type": "text",
                "text": "no id",
            }  # fmt: skip
        )
        del broken["response_id"], broken["token"]
        fake.responses.insert(2, broken)
    server = ctx.serve(FakeServer(fake))
    return Scenario(
        config={
            "form_id": fake.form["id"],
            "base_url": server.url,
            "token_env": "LP_TEST_TYPEFORM_TOKEN",
            "customer_field": "customer_id",
        },
        item_ids=["tok1:why", "tok1:setup", "tok2:why", "tok3:setup", "tok4:why"],
        bad_records=1 if ctx.bad else 0,
        small_batches={"page_size": 2},
        server=server,
        env={"LP_TEST_TYPEFORM_TOKEN": ctx.secret},
        secrets=[ctx.secret],
    )


def zendesk_scenario(ctx: ScenarioContext) -> Scenario:
    fake = FakeZendesk(token=ctx.secret)
    fake.tickets = [
        zendesk_ticket(1, "Charged twice", "I was charged twice this month.", tags=("billing",),
                       satisfaction="bad", satisfaction_comment="Still not refunded"),
        zendesk_ticket(2, "Cannot log in", "The login page loops.", form_id=77),
        zendesk_ticket(3, "Thanks", "Setup was easy.", satisfaction="good"),
    ]  # fmt: skip
    fake.comments = {
        1: [
            zendesk_comment(11, 501, "I was charged twice this month."),
            zendesk_comment(12, 9, "Sorry! Refund on its way.", public=True),
            zendesk_comment(13, 9, "internal: check the ledger", public=False),
            zendesk_comment(14, 501, "Any news on the refund?"),
        ],
        2: [zendesk_comment(21, 501, "The login page loops.")],
        3: [zendesk_comment(31, 501, "Setup was easy.")],
    }
    if ctx.bad:
        broken = zendesk_ticket(4, "No id", "This one has no id.")
        del broken["id"]
        fake.tickets.insert(2, broken)
    server = ctx.serve(FakeServer(fake))
    return Scenario(
        config={
            "base_url": server.url,
            "email": fake.email,
            "token_env": "LP_TEST_ZENDESK_TOKEN",
            "tag_stages": {"billing": "billing"},
            "form_stages": {"77": "use"},
        },
        item_ids=["1", "1:c14", "1:satisfaction", "2", "3"],
        bad_records=1 if ctx.bad else 0,
        small_batches={"page_size": 1},
        server=server,
        env={"LP_TEST_ZENDESK_TOKEN": ctx.secret},
        secrets=[ctx.secret],
    )


def rest_records(n: int = 5) -> list[dict[str, Any]]:
    return [
        {
            "id": f"r{i}",
            "created_at": (DAY + timedelta(hours=i)).isoformat(),
            "title": f"Review {i}",
            "body": ["Checkout froze", "Love the app", "Refund pending", "Setup easy",
                     "Support slow", "Great value", "Too pricey"][i % 7],
            "stars": 1 + i % 5,
            "user": {"id": f"u{i}", "plan": "pro" if i % 2 else "free"},
            "topic": "Billing" if i % 3 == 0 else "Product",
        }
        for i in range(1, n + 1)
    ]  # fmt: skip


def rest_config(url: str, style: str) -> dict[str, Any]:
    pagination: dict[str, Any] = {"style": style, "size_param": "per_page"}
    if style == "cursor":
        pagination["next_path"] = "meta.next_cursor"
    return {
        "url": f"{url}/v1/reviews",
        "headers": {"X-Api-Key": {"env": "LP_TEST_REST_KEY"}, "Accept": "application/json"},
        "records_path": "data.reviews",
        "fields": {
            "id": "id",
            "text": ["title", "body"],
            "date": "created_at",
            "author": "user.id",
            "rating": "stars",
            "stage": "topic",
            "attributes": {"plan": "user.plan"},
        },
        "rating_scale": "stars_1_5",
        "stage_values": {"billing": "billing"},
        "pagination": pagination,
        **LOOPBACK,  # the FakeServer listens on 127.0.0.1
    }


def rest_scenario_for(style: str) -> Callable[[ScenarioContext], Scenario]:
    def make(ctx: ScenarioContext) -> Scenario:
        records = rest_records(5)
        if ctx.bad:
            broken = {k: v for k, v in rest_records(3)[2].items() if k != "id"}
            records.insert(2, broken)
        server = ctx.serve(FakeServer(FakeRest(records, style=style, api_key=ctx.secret)))
        return Scenario(
            config=rest_config(server.url, style),
            item_ids=[f"r{i}" for i in range(1, 6)],
            bad_records=1 if ctx.bad else 0,
            small_batches={"page_size": 2},
            server=server,
            env={"LP_TEST_REST_KEY": ctx.secret},
            secrets=[ctx.secret],
        )

    return make


def push_scenario(ctx: ScenarioContext) -> Scenario:
    records: list[Any] = [
        {"id": "w1", "text": "The form was easy", "occurred_at": "2024-06-01T10:00:00Z"},
        {"id": 2, "text": "Refund please", "rating": 2, "rating_scale": "csat_1_5",
         "topic": "Billing question", "attributes": {"page": "/refunds"}},
        {"id": "w3", "text": "Love it", "author": "cust-9", "stage": "advocate"},
    ]  # fmt: skip
    if ctx.bad:
        records.insert(1, {"text": "no id here"})
    return Scenario(
        config={"stage_values": {"Billing question": "billing"}},
        item_ids=["w1", "2", "w3"],
        bad_records=1 if ctx.bad else 0,
        push_records=records,
    )


HTTP_FACTORIES: dict[str, Callable[[ScenarioContext], Scenario]] = {
    "mastodon": mastodon_scenario,
    "rss": rss_scenario,
    "typeform": typeform_scenario,
    "zendesk": zendesk_scenario,
    "rest": rest_scenario_for("cursor"),
    "push": push_scenario,
}
