from __future__ import annotations

import pytest

from nlp.pipeline import PipelineEnricher
from nlp.redaction import luhn_valid, redact


@pytest.mark.parametrize(
    ("text", "expected", "kind"),
    [
        ("write to jane.doe+cx@example.co.uk today", "write to [EMAIL] today", "email"),
        ("mail: J_Smith@mail-server.com.", "mail: [EMAIL].", "email"),
        ("call +44 20 7946 0958 please", "call [PHONE] please", "phone"),
        ("call (555) 123-4567", "call [PHONE]", "phone"),
        ("my number is 555-123-4567", "my number is [PHONE]", "phone"),
        ("ring +33 1 23 45 67 89", "ring [PHONE]", "phone"),
        ("mobile +4915112345678", "mobile [PHONE]", "phone"),
        ("try 020 7946 0958", "try [PHONE]", "phone"),
        ("card 4111 1111 1111 1111 was charged", "card [CARD] was charged", "card"),
        ("card 4111-1111-1111-1111", "card [CARD]", "card"),
        ("card 5500000000000004.", "card [CARD].", "card"),
    ],
)
def test_each_kind_is_redacted_and_counted(text: str, expected: str, kind: str) -> None:
    redacted, counts = redact(text)
    assert redacted == expected
    assert counts == {kind: 1}


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112 fails the Luhn check",
        "order #123456789 placed on 2024-01-15 for $1,299.99",
        "on 15.01.2024 and 01/02/2023, years 2019-2020",
        "reference 1234567890123",
        "order 5551234567 arrived",
        "paid 1 000 000 in total, 12.99 or 1,234.56 each",
        "flight 1234 was 3 hours late, gate 22",
        "version 1.2.3.4 on 192.168.1.1",
        "tracking 1Z999AA10123456784",
        "meet at 10:30-11:45 on 2024/03/05",
    ],
)
def test_no_false_positives(text: str) -> None:
    assert redact(text) == (text, {})


def test_luhn() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert not luhn_valid("4111a11111111111")


def test_several_counts() -> None:
    text, counts = redact("a@b.io, c@d.org, call +1 202 555 0143")
    assert text == "[EMAIL], [EMAIL], call [PHONE]"
    assert counts == {"email": 2, "phone": 1}


def test_enrichment_holds_redacted_text_and_offsets(enricher: PipelineEnricher) -> None:
    result = enricher.enrich(
        "Email me at bob@example.com. My card 4111 1111 1111 1111 was charged twice!"
    )
    assert "bob@example.com" not in result.text
    assert "4111" not in result.text
    assert result.redactions == {"email": 1, "card": 1}
    for segment in result.segments:
        assert result.text[segment.start : segment.end] == segment.text
    assert any("[CARD]" in s.text for s in result.segments)
    assert all("[" not in theme for theme in result.themes)


def test_placeholder_is_one_token(enricher: PipelineEnricher) -> None:
    doc = enricher.nlp("reach me on +44 20 7946 0958 or x@y.com")
    assert [t.text for t in doc][-3:] == ["[PHONE]", "or", "[EMAIL]"]
