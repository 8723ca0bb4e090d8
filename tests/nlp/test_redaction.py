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


# ---- issue 17: the measured engine (nlp.pii) ----
from nlp.redaction import KINDS, PLACEHOLDERS, is_personal_reference  # noqa: E402


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("josé@exämple.de", "email"),
        ("用户@例子.广告", "email"),
        ("иван@почта.рф", "email"),
        ("07700 900123", "phone"),
        ("+44 7700 900123", "phone"),
        ("07700900123", "phone"),
        ("+447700900123", "phone"),
        ("+49 30 901820", "phone"),
        ("030 901820", "phone"),
        ("0033 1 23 45 67 89", "phone"),
        ("06 12 34 56 78", "phone"),
        ("202-555-0143", "phone"),
        ("0412 345 678", "phone"),
        ("3782 822463 10005", "card"),
        ("GB82 WEST 1234 5698 7654 32", "iban"),
        ("GB82WEST12345698765432", "iban"),
        ("DE89 3704 0044 0532 0130 00", "iban"),
        ("AB 12 34 56 C", "national_id"),
        ("12345678Z", "national_id"),
        ("10 Downing Street, London SW1A 2AA", "address"),
        ("1600 Pennsylvania Ave NW, Washington, DC 20500", "address"),
        ("Hauptstraße 5, 10115 Berlin", "address"),
        ("12 rue de la Paix, 75002 Paris", "address"),
    ],
)
def test_each_new_kind_is_redacted(value: str, kind: str) -> None:
    redacted, counts = redact(f"Hello, please note {value} for later.")
    assert value not in redacted
    assert PLACEHOLDERS[kind] in redacted
    assert counts.get(kind, 0) >= 1


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Hi, my name is Sarah Connor and I want a refund.", "Sarah Connor"),
        ("I'm Priya Shah, account holder.", "Priya Shah"),
        ("I spoke to Mary at the Leeds store.", "Mary"),
        ("The agent called John fixed it.", "John"),
        ("Great service, ask for Oluwaseun!", "Oluwaseun"),
        ("It works now.\nThanks, John Smith", "John Smith"),
        ("Still broken.\nRegards,\nMary Jones", "Mary Jones"),
        ("All sorted, cheers – Tom", "Tom"),
        ("Mrs Okafor in billing was lovely.", "Okafor"),
    ],
)
def test_names_in_context(text: str, name: str) -> None:
    redacted, counts = redact(text)
    assert name not in redacted
    assert counts.get("name") == 1


@pytest.mark.parametrize(
    "text",
    [
        "Paid £1,299.00 on 2024-01-15 and again on 15/01/2024 at 10:30.",
        "Order 2025550143 never arrived, invoice INV-88812345.",
        "Tracking JD0002210993845 still in the depot.",
        "Version 4.12.3 broke the app; I have been here since 2019.",
        "Flat 4 has no signal.",
        "Thank you",
        "Thanks, Support Team",
        "I'm Very Happy with Fibre 500.",
        "Support was great but Billing was a mess, Onboard was slow.",
        "Spoke to someone in support who was lovely.",
        "The 5 Star Service badge is a joke, a 3 hour drive away.",
        "Years 2019-2020 were fine, 1 000 000 customers can't be wrong.",
    ],
)
def test_ordinary_feedback_is_left_alone(text: str) -> None:
    assert redact(text) == (text, {})


@pytest.mark.parametrize(
    "text",
    [
        "Email josé@exämple.de or call 07700 900123. Thanks, John Smith",
        "IBAN GB82 WEST 1234 5698 7654 32, NI AB 12 34 56 C, 10 Downing Street, London SW1A 2AA",
        "I spoke to Mary at 12 rue de la Paix, 75002 Paris; card 4111 1111 1111 1111",
    ],
)
def test_redaction_is_idempotent(text: str) -> None:
    once, counts = redact(text)
    assert counts
    assert redact(once) == (once, {})


def test_placeholders_cover_every_kind() -> None:
    assert set(PLACEHOLDERS) == set(KINDS)
    for placeholder in PLACEHOLDERS.values():
        assert redact(placeholder) == (placeholder, {})


def test_tokenizer_gives_redacted_text(enricher: PipelineEnricher) -> None:
    doc = enricher.nlp("I'm John Smith, IBAN GB82 WEST 1234 5698 7654 32, call +44 7700 900123")
    assert "John" not in doc.text
    assert "GB82" not in doc.text
    assert "[IBAN]" in [t.text for t in doc]
    assert "[NAME]" in [t.text for t in doc]


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("jane@example.com", "email"),
        (" josé@exämple.de ", "email"),
        ("+44 7700 900123", "phone"),
        ("07700900123", "phone"),
        ("(202) 555-0143", "phone"),
        ("FH-142938", None),
        ("cust_0042", None),
        ("12345678", None),
        ("2024-01-15", None),
        ("", None),
        ("call jane@example.com", None),
    ],
)
def test_is_personal_reference(value: str, kind: str | None) -> None:
    assert is_personal_reference(value) == kind


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("The number on my account is 07700 900123, call after six.", False),
        ("Their new number is 0161 496 0000.", False),
        ("My order number is 01234567890.", True),
        ("The number of orders was 12345678 last year.", True),
    ],
)
def test_number_as_people_say_it_of_their_phone(text: str, kept: bool) -> None:
    """A determiner right before "number" ("my number", "the number on my account")
    is a phone; "order number" and "the number of" are not."""
    redacted, _ = redact(text)
    digits = [w for w in text.replace(",", " ").replace(".", " ").split() if w.isdigit()]
    assert all((d in redacted) == kept for d in digits), redacted
