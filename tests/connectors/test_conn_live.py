"""The live kinds against their fake vendor APIs: what each vendor's shapes turn into.
(The contract and the faults every HTTP kind survives are in the standard suite.)"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import ConfigError, FatalError, PaginationLoopError
from connectors.mastodon import MastodonConnector, snowflake_at
from connectors.rest import RestConnector
from connectors.rss import RssConnector
from connectors.testing import (
    LOOPBACK,
    FakeServer,
    Fault,
    ids,
    instrument,
    items,
    make_test_class,
    rejects,
    run,
)
from connectors.testing.vendors import (
    FakeFeed,
    FakeMastodon,
    FakeRest,
    FakeTypeform,
    FakeZendesk,
    FeedEntry,
    mastodon_mention,
    mastodon_status,
    typeform_response,
    zendesk_comment,
    zendesk_ticket,
)
from connectors.typeform import TypeformConnector
from connectors.zendesk import ZendeskConnector
from tests.connectors.live import DAY, rest_config, rest_records, rest_scenario_for

TOKEN = "tok-" + "x" * 24

# the rest kind's other pagination styles run the whole standard suite too
TestRestLink = make_test_class(RestConnector, rest_scenario_for("link"))
TestRestPage = make_test_class(RestConnector, rest_scenario_for("page"))
TestRestOffset = make_test_class(RestConnector, rest_scenario_for("offset"))


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[FakeServer] = []

    def start(handler: Any) -> FakeServer:
        server = FakeServer(handler).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


# --------------------------------------------------------------------------- mastodon


def _mastodon(server: FakeServer, tmp_path: Path, **config: Any) -> MastodonConnector:
    connector = MastodonConnector.from_mapping(
        {"base_url": server.url, **LOOPBACK, **config}, base_dir=tmp_path
    )
    instrument(connector)
    assert isinstance(connector, MastodonConnector)
    return connector


def test_mastodon_status_becomes_an_item_with_its_amplification(serve: Any, tmp_path: Path) -> None:
    html = '<p>Tried to pay my bill &amp; it froze<br>again</p><p><a href="x">#Billing</a></p>'
    status = mastodon_status(
        1001, html, tags=("acme", "billing"), favourites=4, reblogs=2, replies=1
    )
    server = serve(FakeMastodon([status]))
    connector = _mastodon(server, tmp_path, hashtag="#acme", stage_by_tag={"billing": "billing"})
    (item,) = items(run(connector))
    assert item.text == "Tried to pay my bill & it froze\nagain\n\n#Billing"
    assert item.author_ref == "ana@example.social"
    assert item.stage_hint == "billing"
    assert item.attributes["favourites_count"] == 4
    assert item.attributes["reblogs_count"] == 2
    assert item.attributes["replies_count"] == 1
    assert item.occurred_at.tzinfo is UTC


def test_mastodon_walks_forward_with_min_id_and_the_cursor_is_the_newest_id(
    serve: Any, tmp_path: Path
) -> None:
    fake = FakeMastodon(
        [mastodon_status(i, f"<p>post {i}</p>", tags=("acme",)) for i in range(100, 105)]
    )
    server = serve(fake)
    connector = _mastodon(server, tmp_path, hashtag="acme", page_size=2)
    batches = run(connector)
    assert ids(batches) == ["100", "101", "102", "103", "104"]
    assert [b.cursor for b in batches] == [
        {"since": "101"},
        {"since": "103"},
        {"since": "104"},
        {"since": "104"},
    ]
    sent = [r.query.get("min_id") for r in server.requests]
    assert sent == [["0"], ["101"], ["103"], ["104"]]
    fake.statuses.append(mastodon_status(105, "<p>new one</p>", tags=("acme",)))
    assert ids(run(connector, batches[-1].cursor)) == ["105"]  # the next run: only what is new


def test_mastodon_since_starts_at_that_days_snowflake(serve: Any, tmp_path: Path) -> None:
    server = serve(FakeMastodon([]))
    run(_mastodon(server, tmp_path, hashtag="acme", since="2024-05-01"))
    assert server.requests[0].query["min_id"] == [snowflake_at(date(2024, 5, 1))]
    assert int(snowflake_at(date(2024, 5, 1))) >> 16 == 1714521600000


def test_mastodon_token_goes_in_the_header_never_the_url(
    serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    server = serve(FakeMastodon([mastodon_status(7, "<p>hi</p>", tags=("acme",))], token=TOKEN))
    assert ids(run(_mastodon(server, tmp_path, hashtag="acme", token_env="MASTODON_TOKEN"))) == [
        "7"
    ]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in server.requests)
    assert not any(TOKEN in str(r.query) for r in server.requests)


def test_mastodon_expired_token_is_fatal_naming_the_variable(
    serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", "expired-" + TOKEN)
    server = serve(FakeMastodon([], token=TOKEN))
    with pytest.raises(FatalError) as info:
        run(_mastodon(server, tmp_path, hashtag="acme", token_env="MASTODON_TOKEN"))
    message = str(info.value)
    assert "401" in message
    assert "MASTODON_TOKEN" in message
    assert TOKEN not in message
    assert len(server.requests) == 1  # never retried


def test_mastodon_missing_token_variable_is_a_config_error(serve: Any, tmp_path: Path) -> None:
    server = serve(FakeMastodon([]))
    with pytest.raises(ConfigError, match="LP_NOT_SET_ANYWHERE is not set"):
        run(_mastodon(server, tmp_path, hashtag="acme", token_env="LP_NOT_SET_ANYWHERE"))
    assert server.requests == []


def test_mastodon_account_by_address_skips_boosts_unless_asked(serve: Any, tmp_path: Path) -> None:
    own = mastodon_status(201, "<p>My own words</p>", account_id="7")
    boosted = mastodon_status(
        150, "<p>Someone else's words</p>", acct="bo@x.social", account_id="8"
    )
    boost = mastodon_status(202, "", account_id="7", reblog=boosted)
    reply = mastodon_status(203, "<p>@bo thanks</p>", account_id="7", in_reply_to_id="150")
    server = serve(FakeMastodon([boosted, own, boost, reply]))
    assert ids(run(_mastodon(server, tmp_path, account="@ana@example.social"))) == ["201", "203"]
    assert server.requests[0].path == "/api/v1/accounts/lookup"
    assert server.requests[1].path == "/api/v1/accounts/7/statuses"
    assert server.requests[1].query["exclude_reblogs"] == ["true"]
    with_boosts = run(
        _mastodon(server, tmp_path, account="7", include_boosts=True, include_replies=False)
    )
    assert ids(with_boosts) == ["201", "202"]
    boost_item = items(with_boosts)[1]
    assert boost_item.text == "Someone else's words"
    assert boost_item.author_ref == "bo@x.social"
    assert boost_item.attributes["boosted_by"] == "ana@example.social"


def _acme_with_mentions() -> FakeMastodon:
    """The company account (id 7) posts twice; three customers mention it (their
    notification ids are the server's own sequence), and a follow is not a voice."""
    own = [mastodon_status(sid, f"<p>Acme update {sid}</p>") for sid in (500, 520)]
    said = [
        mastodon_status(
            sid,
            f"<p>@acme my bill is wrong again ({sid})</p>",
            acct=f"cust{sid}@other.social",
            account_id=f"9{sid}",
            when=datetime(2024, 4, day, tzinfo=UTC),
            favourites=sid % 7,
        )
        for sid, day in ((510, 2), (530, 3), (540, 4))
    ]
    notes = [mastodon_mention(n, status) for n, status in zip((11, 12, 14), said, strict=True)]
    notes.insert(2, {**mastodon_mention(13, said[0]), "type": "follow", "status": None})
    return FakeMastodon(own, token=TOKEN, notifications=notes)


def test_mastodon_account_reads_its_statuses_then_the_posts_that_mention_it(
    serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    fake = _acme_with_mentions()
    server = serve(fake)
    connector = _mastodon(
        server, tmp_path, account="ana@example.social", token_env="MASTODON_TOKEN", page_size=2
    )
    batches = run(connector)
    assert ids(batches) == ["500", "520", "510", "530", "540"]
    heard = items(batches)[2:]
    assert [i.author_ref for i in heard] == [f"cust{s}@other.social" for s in (510, 530, 540)]
    assert heard[0].attributes["favourites_count"] == 510 % 7
    notified = [r for r in server.requests if r.path == "/api/v1/notifications"]
    assert notified[0].query["types[]"] == ["mention"]
    assert batches[-1].cursor == {"statuses": {"since": "520"}, "mentions": {"since": "14"}}
    # Resume from every batch's cursor: nothing lost, nothing read twice.
    for n, batch in enumerate(batches):
        assert ids(batches[: n + 1]) + ids(run(connector, batch.cursor)) == ids(batches)
    fake.notifications.append(
        mastodon_mention(15, mastodon_status(550, "<p>@acme thanks for the refund</p>"))
    )
    fake.statuses.append(mastodon_status(560, "<p>Acme news</p>"))
    assert ids(run(connector, batches[-1].cursor)) == ["560", "550"]


def test_mastodon_mentions_keep_since_and_continue_an_old_cursor(
    serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    server = serve(_acme_with_mentions())
    recent = _mastodon(
        server, tmp_path, account="7", token_env="MASTODON_TOKEN", since="2024-04-03"
    )
    # Statuses start at the day's snowflake (500 and 520 are far older); mentions
    # have no such id, so the old ones are dropped as read.
    assert ids(run(recent)) == ["530", "540"]
    connector = _mastodon(server, tmp_path, account="7", token_env="MASTODON_TOKEN")
    # A cursor stored before mentions were read is the statuses' own.
    assert ids(run(connector, {"since": "500"})) == ["520", "510", "530", "540"]
    without = _mastodon(server, tmp_path, account="7", token_env="MASTODON_TOKEN", mentions=False)
    assert ids(run(without)) == ["500", "520"]
    anonymous = _mastodon(server, tmp_path, account="7")
    assert not anonymous.config.reads_mentions


def test_mastodon_mentions_need_the_accounts_own_token(
    serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    fake = _acme_with_mentions()
    fake.token_owner = "8"
    fake.accounts["bo@x.social"] = "8"
    server = serve(fake)
    connector = _mastodon(server, tmp_path, account="7", token_env="MASTODON_TOKEN")
    stream = connector.fetch(None)
    assert ids([next(stream)]) == ["500", "520"]  # the statuses are stored first
    with pytest.raises(FatalError, match="belongs to @bo, not to 7") as failed:
        list(stream)
    assert TOKEN not in str(failed.value)
    with pytest.raises(ConfigError, match="need the account's own access token"):
        _mastodon(server, tmp_path, account="7", mentions=True)
    with pytest.raises(ConfigError, match="mentions are an account's"):
        _mastodon(server, tmp_path, hashtag="acme", mentions=True, token_env="MASTODON_TOKEN")


def test_mastodon_unknown_account_is_fatal(serve: Any, tmp_path: Path) -> None:
    server = serve(FakeMastodon([]))
    with pytest.raises(FatalError, match="404"):
        run(_mastodon(server, tmp_path, account="nobody@example.social"))


def test_mastodon_search_sweeps_by_offset_and_resumes_mid_sweep(
    serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    fake = FakeMastodon(
        [mastodon_status(i, f"<p>acme bill {i}</p>") for i in range(300, 305)], token=TOKEN
    )
    server = serve(fake)
    connector = _mastodon(
        server, tmp_path, search="acme bill", page_size=2, token_env="MASTODON_TOKEN"
    )
    full = run(connector)
    assert sorted(ids(full)) == ["300", "301", "302", "303", "304"]
    assert full[-1].cursor == {"min_id": "304"}
    stream = connector.fetch(None)
    first = next(stream)
    assert first.cursor == {"min_id": None, "sweep": {"offset": 2, "top": "304"}}
    rest = run(connector, first.cursor)
    assert sorted(ids([first]) + ids(rest)) == sorted(ids(full))
    fake.statuses.append(mastodon_status(305, "<p>acme bill again</p>"))
    assert ids(run(connector, full[-1].cursor)) == ["305"]


def test_mastodon_repeated_page_is_asked_again_then_stopped_not_looped(
    serve: Any, tmp_path: Path
) -> None:
    fake = FakeMastodon(
        [mastodon_status(i, f"<p>p {i}</p>", tags=("acme",)) for i in range(10, 16)]
    )
    server = serve(fake)
    connector = _mastodon(server, tmp_path, hashtag="acme", page_size=2)
    clock = instrument(connector)
    stream = connector.fetch(None)
    delivered = [next(stream)]
    server.inject(Fault.repeat())  # once: asked again, and the run goes on
    delivered.extend(stream)
    assert ids(delivered) == [str(i) for i in range(10, 16)]
    assert len(clock.sleeps) == 1
    stream = connector.fetch(None)
    delivered = [next(stream)]
    server.inject(Fault.repeat(), Fault.repeat())  # again and again: stopped
    with pytest.raises(PaginationLoopError, match="page repeated"):
        delivered.extend(stream)
    rest = run(connector, delivered[-1].cursor)
    assert ids(delivered) + ids(rest) == [str(i) for i in range(10, 16)]


def test_a_link_to_another_host_is_refused(serve: Any, tmp_path: Path) -> None:
    class Elsewhere(FakeMastodon):
        def __call__(self, request: Any) -> Any:
            response = super().__call__(request)
            response.headers["Link"] = (
                '<http://evil.example/api/v1/timelines/tag/acme?min_id=999>; rel="prev"'
            )
            return response

    server = serve(Elsewhere([mastodon_status(1, "<p>a</p>", tags=("acme",))]))
    with pytest.raises(FatalError, match="outside"):
        run(_mastodon(server, tmp_path, hashtag="acme"))


def test_rate_limit_spaces_the_requests(serve: Any, tmp_path: Path) -> None:
    server = serve(
        FakeMastodon([mastodon_status(i, "<p>x</p>", tags=("acme",)) for i in range(1, 7)])
    )
    connector = _mastodon(server, tmp_path, hashtag="acme", page_size=2, rate_limit_per_second=4)
    clock = instrument(connector)
    run(connector)
    assert len(server.requests) == 4
    assert clock.sleeps == [pytest.approx(0.25)] * 3


@pytest.mark.parametrize(
    "config",
    [
        {"hashtag": "acme", "search": "bill"},
        {},
        {"hashtag": "two words"},
        {"hashtag": "acme", "base_url": "ftp://x"},
        {"hashtag": "acme", "base_url": "https://user:pw@mastodon.social"},
        {"hashtag": "acme", "token_env": "has space"},
        {"hashtag": "acme", "token_env": "A", "token_file": "b"},
        {"hashtag": "acme", "page_size": 41},
    ],
)
def test_mastodon_bad_config_fails_at_once(tmp_path: Path, config: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="mastodon"):
        MastodonConnector.from_mapping(
            {"base_url": "https://mastodon.social", **config}, base_dir=tmp_path
        )


# --------------------------------------------------------------------------- rss


def _rss(server: FakeServer, tmp_path: Path, **config: Any) -> RssConnector:
    connector = RssConnector.from_mapping(
        {"url": f"{server.url}/feed", **LOOPBACK, **config}, base_dir=tmp_path
    )
    instrument(connector)
    assert isinstance(connector, RssConnector)
    return connector


@pytest.mark.parametrize("atom", [False, True])
def test_rss_and_atom_entries_with_conditional_get(serve: Any, tmp_path: Path, atom: bool) -> None:
    feed = FakeFeed(
        [
            FeedEntry("a1", "★★★★☆ Good", "<p>Works <b>well</b></p>", DAY, author="reviewer1"),
            FeedEntry("a2", "Bad", "Crashes", DAY + timedelta(hours=1), rating=2 if atom else None),
        ],
        atom=atom,
    )
    server = serve(feed)
    connector = _rss(server, tmp_path)
    batches = run(connector)
    first, second = items(batches)
    assert (first.external_id, first.text, first.rating, first.rating_scale) == (
        "a1",
        "★★★★☆ Good\n\nWorks well",
        4.0,
        "stars_1_5",
    )
    assert second.rating == (2.0 if atom else None)
    assert first.occurred_at == DAY
    again = run(connector, batches[-1].cursor)
    assert again == []
    assert server.requests[-1].headers["if-none-match"] == batches[-1].cursor["etag"]
    feed.entries.insert(0, FeedEntry("a3", "New", "Refund came", DAY + timedelta(days=1)))
    feed.entries[2] = FeedEntry("a2", "Bad", "Crashes every evening", DAY + timedelta(hours=1))
    assert ids(run(connector, batches[-1].cursor)) == ["a3", "a2"]  # new, and edited


def test_rss_without_conditional_get_still_yields_only_new_entries(
    serve: Any, tmp_path: Path
) -> None:
    feed = FakeFeed([FeedEntry("e1", "One", "First", DAY)], conditional=False)
    server = serve(feed)
    connector = _rss(server, tmp_path)
    final = run(connector)[-1].cursor
    assert run(connector, final) == []
    feed.entries.append(FeedEntry("e2", "Two", "Second", DAY))
    assert ids(run(connector, final)) == ["e2"]


def test_rss_not_a_feed_is_retried_then_retriable(serve: Any, tmp_path: Path) -> None:
    from connectors.errors import RetriableError
    from connectors.testing import FakeResponse

    server = serve(lambda request: FakeResponse(200, "<html>hello</html>"))
    with pytest.raises(RetriableError, match="not an RSS or Atom feed"):
        run(_rss(server, tmp_path, max_retries=1))


# --------------------------------------------------------------------------- typeform


def _typeform(
    server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **config: Any
) -> TypeformConnector:
    monkeypatch.setenv("TYPEFORM_TOKEN", TOKEN)
    connector = TypeformConnector.from_mapping(
        {"form_id": "u6nXL7", "base_url": server.url, "token_env": "TYPEFORM_TOKEN"}
        | LOOPBACK
        | config,
        base_dir=tmp_path,
    )
    instrument(connector)
    assert isinstance(connector, TypeformConnector)
    return connector


def test_typeform_one_item_per_open_answer_with_the_score_and_its_scale(
    serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeTypeform(token=TOKEN)
    fake.responses = [
        typeform_response("t1", submitted_at=DAY, why="Support was great", setup="Painless", nps=9,
                          effort=6, hidden={"customer_id": "c-1", "plan": "pro"}),
        typeform_response("t2", submitted_at=DAY + timedelta(minutes=1), setup="Confusing", stars=2),
        typeform_response("t3", submitted_at=DAY + timedelta(minutes=2), nps=10),  # no words
    ]  # fmt: skip
    server = serve(fake)
    connector = _typeform(server, tmp_path, monkeypatch, customer_field="customer_id",
                          question_stages={"setup": "onboard"},
                          field_scales={"effort": "ces_1_7"})  # fmt: skip
    why, setup, setup2 = items(run(connector))
    assert [why.external_id, setup.external_id, setup2.external_id] == [
        "t1:why",
        "t1:setup",
        "t2:setup",
    ]
    assert (why.rating, why.rating_scale) == (9.0, "nps_0_10")
    assert (setup2.rating, setup2.rating_scale) == (2.0, "stars_1_5")
    assert why.author_ref == "c-1"
    assert why.attributes["question"] == "What is the main reason for your score?"
    assert why.attributes["plan"] == "pro"
    assert why.attributes["score.effort"] == 6
    assert why.attributes["choice.topic"] == "Billing"
    assert setup.stage_hint == "onboard"
    assert (why.stage_hint, why.hint_value) == (None, "What is the main reason for your score?")
    first, *later = server.requests
    assert first.path == "/forms/u6nXL7"
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    assert later[0].query["sort"] == ["submitted_at,asc"]
    assert later[1].query["after"] == ["t3"]
    assert "sort" not in later[1].query


def test_typeform_opinion_scale_is_named_by_its_range(
    serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeTypeform(token=TOKEN)
    fake.responses = [typeform_response("t1", submitted_at=DAY, why="ok", effort=5)]
    server = serve(fake)
    (item,) = items(run(_typeform(server, tmp_path, monkeypatch)))
    assert (item.rating, item.rating_scale) == (5.0, "opinion_1_7")


def test_typeform_since_and_no_token(
    serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeTypeform(token=TOKEN)
    server = serve(fake)
    run(_typeform(server, tmp_path, monkeypatch, since="2024-06-01"))
    assert server.requests[1].query["since"] == ["2024-06-01T00:00:00"]
    connector = TypeformConnector.from_mapping(
        {"form_id": "u6nXL7", "base_url": server.url}, base_dir=tmp_path
    )
    with pytest.raises(ConfigError, match="token"):
        run(connector)


# --------------------------------------------------------------------------- zendesk


def _zendesk(
    server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **config: Any
) -> ZendeskConnector:
    monkeypatch.setenv("ZENDESK_TOKEN", TOKEN)
    connector = ZendeskConnector.from_mapping(
        {
            "base_url": server.url,
            "email": "cx@acme.example",
            "token_env": "ZENDESK_TOKEN",
            **LOOPBACK,
            **config,
        },
        base_dir=tmp_path,
    )
    instrument(connector)
    assert isinstance(connector, ZendeskConnector)
    return connector


def test_zendesk_never_reads_agent_replies_or_internal_notes(
    serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeZendesk(token=TOKEN)
    fake.tickets = [
        zendesk_ticket(1, "Charged twice", "I was charged twice.", tags=("vip", "billing"), satisfaction="good",
                       satisfaction_comment="Sorted quickly"),
        zendesk_ticket(2, "Agent-made", "Calling on behalf of the customer", form_id=5),
        zendesk_ticket(3, "Gone", "deleted", status="deleted"),
    ]  # fmt: skip
    fake.comments = {
        1: [
            zendesk_comment(11, 501, "I was charged twice."),
            zendesk_comment(12, 9, "AGENT: refunded"),
            zendesk_comment(13, 9, "NOTE: customer is angry", public=False),
            zendesk_comment(14, 501, "Thanks, got it"),
            zendesk_comment(15, 501, "private end-user note", public=False),
        ],
        2: [zendesk_comment(21, 9, "Calling on behalf of the customer", public=False)],
    }
    server = serve(fake)
    connector = _zendesk(
        server,
        tmp_path,
        monkeypatch,
        tag_stages={"billing": "billing"},
        form_stages={"5": "support"},
    )
    batches = run(connector)
    texts = " ".join(i.text for i in items(batches))
    assert "AGENT" not in texts
    assert "NOTE" not in texts
    assert "private" not in texts
    assert "behalf" not in texts
    ticket, comment, said = items(batches)
    assert (ticket.external_id, comment.external_id, said.external_id) == (
        "1",
        "1:c14",
        "1:satisfaction",
    )
    assert ticket.text == "Charged twice\n\nI was charged twice."
    assert (ticket.rating, ticket.rating_scale, ticket.attributes["satisfaction"]) == (
        5.0,
        "csat_1_5",
        "good",
    )
    assert ticket.author_ref == "501"
    assert ticket.stage_hint == "billing"
    assert said.text == "Sorted quickly"
    pair = base64.b64encode(f"cx@acme.example/token:{TOKEN}".encode()).decode()
    assert server.requests[0].headers["authorization"] == f"Basic {pair}"
    assert server.requests[0].query["start_time"] == ["0"]


def test_zendesk_next_run_reads_tickets_changed_since(
    serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeZendesk(token=TOKEN)
    fake.tickets = [zendesk_ticket(1, "A", "first words")]
    fake.comments = {1: [zendesk_comment(11, 501, "first words")]}
    server = serve(fake)
    connector = _zendesk(server, tmp_path, monkeypatch, start_date="2024-01-01")
    batches = run(connector)
    assert ids(batches) == ["1"]
    assert server.requests[0].query["start_time"] == [
        str(int(datetime(2024, 1, 1, tzinfo=UTC).timestamp()))
    ]
    assert run(connector, batches[-1].cursor)[-1].cursor == batches[-1].cursor
    changed = zendesk_ticket(1, "A", "first words", satisfaction="bad")
    fake.tickets.append(changed)  # the export lists a changed ticket again
    (again,) = items(run(connector, batches[-1].cursor))
    assert (again.external_id, again.rating) == ("1", 1.0)
    assert "start_time" not in server.requests[-2].query


def test_zendesk_needs_subdomain_or_base_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="subdomain or base_url"):
        ZendeskConnector.from_mapping({"email": "a@b.c"}, base_dir=tmp_path)
    ok = ZendeskConnector.from_mapping({"email": "a@b.c", "subdomain": "acme"}, base_dir=tmp_path)
    assert isinstance(ok, ZendeskConnector)
    assert ok.base_url() == "https://acme.zendesk.com"


# --------------------------------------------------------------------------- rest


def test_rest_maps_fields_and_reads_secret_headers_from_a_file(serve: Any, tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "key").write_text(TOKEN + "\n", encoding="utf-8")
    server = serve(FakeRest(rest_records(3), style="link", api_key=TOKEN))
    config = rest_config(server.url, "link")
    config["headers"]["X-Api-Key"] = {"file": "secrets/key"}
    connector = RestConnector.from_mapping(config, base_dir=tmp_path)
    instrument(connector)
    first, *_ = items(run(connector))
    assert first.text == "Review 1\n\nLove the app"
    assert (first.rating, first.rating_scale, first.author_ref) == (2.0, "stars_1_5", "u1")
    assert first.attributes == {"plan": "pro"}
    assert TOKEN not in repr(connector.config)


def test_rest_since_id_style(serve: Any, tmp_path: Path) -> None:
    records = rest_records(5)

    def api(request: Any) -> Any:
        from connectors.testing import FakeResponse

        since = request.int_arg("since_id", 0)
        page = [r for r in records if int(r["id"]) > since][: request.int_arg("per_page", 50)]
        return FakeResponse.json({"data": {"reviews": page}})

    server = serve(api)
    config = rest_config(server.url, "since_id")
    config["fields"]["id"] = "id"
    for r in records:
        r["id"] = r["id"][1:]
    config["headers"] = {}
    connector = RestConnector.from_mapping({**config, "page_size": 2}, base_dir=tmp_path)
    batches = run(connector)
    assert ids(batches) == ["1", "2", "3", "4", "5"]
    assert batches[-1].cursor == {"since": "5"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pagination": {"style": "cursor"}}, "next_path"),
        ({"rating_scale": None}, "rating_scale is required"),
        ({"headers": {"X-Api-Key": {"env": "A", "file": "b"}}}, "exactly one of env or file"),
        ({"pagination": {"style": "pages"}}, "pagination.style"),
        ({"fields": {"id": "id"}}, "fields.text"),
    ],
)
def test_rest_bad_config_names_the_problem(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    config = {**rest_config("https://api.example.com", "page"), **change}
    with pytest.raises(ConfigError, match=message):
        RestConnector.from_mapping(config, base_dir=tmp_path)


def test_rejected_records_never_show_a_secret(
    serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LP_TEST_REST_KEY", TOKEN)
    records = rest_records(2)
    records[0] = {"body": f"my key is {TOKEN}", "created_at": "2024-01-01"}  # an API echoing it
    server = serve(FakeRest(records, style="offset", api_key=TOKEN))
    batches = run(RestConnector.from_mapping(rest_config(server.url, "offset"), base_dir=tmp_path))
    (bad,) = rejects(batches)
    assert TOKEN not in bad.excerpt
    assert "***" in bad.excerpt
