"""Writes the project's own personal-data corpus, `bench/data/pii/` (all generated here:
templates and value pools written for this project, values made valid by their own
check digits).

    python bench/pii_corpus.py

- `labelled.jsonl`: {"split", "kind", "country", "value", "text"}: one piece of personal
  data embedded in a feedback sentence. The `dev` split (seed 1, the DEV_* templates and
  pools) is what the rules were built on; the `test` split (seed 2, the TEST_* templates
  and pools, other names, streets and towns) is what the figures are reported on.
- `clean.jsonl`: {"split", "text"}: feedback sentences with no personal data, full of
  the things that must stay (order numbers, prices, dates, times, tracking numbers,
  versions, years, "Flat 4", product names, "Thank you" sign-offs, stage words). The
  test split adds the sample company's own survey answers and call notes
  (`app/sample_data`; customers appear there as FH-nnnnnn; the few answers holding a
  made-up e-mail, card or phone number are left out).
"""

from __future__ import annotations

import csv
import json
import random
import re
import string
import sys
from collections.abc import Callable
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import phonenumbers  # noqa: E402
from stdnum import iban  # noqa: E402
from stdnum.de import idnr  # noqa: E402
from stdnum.es import nie  # noqa: E402
from stdnum.fi import hetu  # noqa: E402
from stdnum.fr import nir  # noqa: E402
from stdnum.ie import pps  # noqa: E402
from stdnum.in_ import aadhaar  # noqa: E402
from stdnum.it import codicefiscale  # noqa: E402
from stdnum.nl import bsn  # noqa: E402
from stdnum.pl import pesel  # noqa: E402
from stdnum.se import personnummer  # noqa: E402
from stdnum.us import ssn  # noqa: E402

OUT = _HERE / "data" / "pii"
ROOT = _HERE.parent
R = random.Random


# ---------- value pools (dev and test disjoint) ----------
POOLS = {
    "dev": {
        "first": "John Mary Priya Tom Sarah David Emma James Aisha Liam Sofia Lucas Chloe Omar Hannah Jack Olivia Mohammed Grace Daniel Zoe Ravi Laura Pierre".split(),
        "last": "Smith Jones Patel Brown Wilson Taylor Murphy Schmidt Dubois Rossi Garcia Kowalski Singh Nguyen Kelly Evans".split(),
        "street": "Downing Baker Oak Station Church Victoria Mill Park Kingsway Elm Maple Cedar".split(),
        "suffix": "Street Road Avenue Lane Close Drive".split(),
        "town": "London Leeds Bristol York Cardiff Glasgow".split(),
        "us_city": [("Washington", "DC"), ("Austin", "TX"), ("Denver", "CO"), ("Boston", "MA")],
        "de_street": "Haupt Bahnhof Schul Garten Berg Linden".split(),
        "de_suffix": ["straße", "weg", "platz", "allee"],
        "de_town": "Berlin Hamburg München Köln".split(),
        "fr_street": ["de la Paix", "Victor Hugo", "du Bac", "de Rivoli", "des Lilas"],
        "fr_type": ["rue", "avenue", "boulevard"],
        "fr_town": ["Paris", "Lyon", "Marseille"],
        "es_street": ["Mayor", "de Alcalá", "Gran Vía"],
        "it_street": ["Roma", "Garibaldi", "Dante"],
        "nl_street": ["Kerk", "Molen", "Dorps"],
        "domain": ["example.com", "mail.co.uk", "exämple.de", "例子.广告", "web.fr", "correo.es"],
    },
    "test": {
        "first": "Oluwaseun Siobhan Mateo Ingrid Kenji Fatima Bartholomew Niamh Arjun Elif Tobias Ximena Wojciech Chiara Hamish Anouk Dmitri Leilani Rosalind Kwame Beatriz Callum Yusuf Greta".split(),
        "last": "O'Brien Okafor Fernández Johansson Tanaka Haddad McAllister Novak Van Der Berg Moreau Bianchi Ó Súilleabháin Kaur Whitfield Lindqvist Mbeki".split(),
        "street": "Acacia Willow Harbour Queens Meadow Foxglove Thornbury Beacon Chapel Highfield".split(),
        "suffix": "Street Rd Crescent Gardens Way Terrace Grove Ave".split(),
        "town": "Manchester Bath Norwich Belfast Swansea Dundee".split(),
        "us_city": [("Seattle", "WA"), ("Chicago", "IL"), ("Portland", "OR"), ("Miami", "FL")],
        "de_street": "Rosen Kirch Wald Mühlen Sonnen".split(),
        "de_suffix": ["straße", "gasse", "ring", "str."],
        "de_town": "Frankfurt Stuttgart Leipzig Dresden".split(),
        "fr_street": ["de la République", "Jean Jaurès", "des Écoles", "Pasteur"],
        "fr_type": ["rue", "place", "allée", "quai"],
        "fr_town": ["Toulouse", "Nantes", "Lille"],
        "es_street": ["del Prado", "Serrano", "de la Castellana"],
        "it_street": ["Vittorio Emanuele", "Verdi", "Mazzini"],
        "nl_street": ["Prinsen", "Heeren", "Keizers"],
        "domain": [
            "beispiel.de",
            "почта.рф",
            "firma.at",
            "mail.ie",
            "xn--bcher-kva.example",
            "posta.it",
        ],
    },
}
LOCAL_UNICODE = ["josé", "zoë", "müller", "用户", "françois", "søren", "иван"]


def phone_value(rng: R) -> tuple[str, str]:
    region = rng.choice(["GB", "GB", "US", "DE", "FR", "ES", "IT", "NL", "IE", "IN", "AU"])
    kind = rng.choice(
        [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]
    )
    for _ in range(200):
        ex = phonenumbers.example_number_for_type(region, kind)
        assert ex is not None
        national = str(ex.national_number)
        keep = rng.randint(len(national) - 6, len(national) - 3)
        digits = national[:keep] + "".join(rng.choice(string.digits) for _ in national[keep:])
        num = phonenumbers.parse("+" + str(ex.country_code) + digits, None)
        if phonenumbers.is_valid_number(num):
            break
    if region == "GB" and rng.random() < 0.3:  # Ofcom's drama ranges: possible, not "valid"
        num = phonenumbers.parse(
            rng.choice(["07700 900", "0161 496 0", "020 7946 0"])
            + "".join(rng.choice(string.digits) for _ in range(3)),
            "GB",
        )
    fmt = rng.choice(["national", "national", "intl", "e164", "bare", "dashes", "00"])
    if fmt == "national":
        value = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL)
    elif fmt == "intl":
        value = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    elif fmt == "e164":
        value = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    elif fmt == "bare":
        value = "".join(
            c
            for c in phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL)
            if c.isdigit()
        )
    elif fmt == "dashes":
        value = (
            phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
            .replace(" ", "-")
            .replace("--", "-")
        )
    else:
        value = (
            "00" + phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.INTERNATIONAL)[1:]
        )
    return value, region


def luhn_complete(body: str) -> str:
    for d in string.digits:
        s = body + d
        total = 0
        for i, ch in enumerate(reversed(s)):
            v = int(ch) * (2 if i % 2 else 1)
            total += v - 9 if v > 9 else v
        if total % 10 == 0:
            return s
    raise AssertionError


def card_value(rng: R) -> tuple[str, str]:
    brand = rng.choice(["visa", "mc", "amex", "disc"])
    prefix, length = {
        "visa": ("4", 16),
        "mc": (str(rng.randint(51, 55)), 16),
        "amex": (rng.choice(["34", "37"]), 15),
        "disc": ("6011", 16),
    }[brand]
    digits = luhn_complete(
        prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    )
    style = rng.choice(["space", "dash", "bare"])
    if brand == "amex":
        groups = [digits[:4], digits[4:10], digits[10:]]
    else:
        groups = [digits[i : i + 4] for i in range(0, len(digits), 4)]
    return {"space": " ".join(groups), "dash": "-".join(groups), "bare": digits}[style], brand


IBAN_SHAPES = {
    "GB": "AAAA" + "9" * 14,
    "DE": "9" * 18,
    "NL": "AAAA" + "9" * 10,
    "IE": "AAAA" + "9" * 14,
    "AT": "9" * 16,
    "CH": "9" * 17,
    "PL": "9" * 24,
    "BE": "9" * 12,
    "IT": "A" + "9" * 22,
    "ES": "9" * 20,
    "FR": "9" * 23,
}


def iban_value(rng: R) -> tuple[str, str]:
    while True:
        cc = rng.choice(sorted(IBAN_SHAPES))
        bban = "".join(
            rng.choice(string.ascii_uppercase) if c == "A" else rng.choice(string.digits)
            for c in IBAN_SHAPES[cc]
        )
        for check in range(100):
            value = f"{cc}{check:02d}{bban}"
            if iban.is_valid(value):
                break
        else:
            continue
        if rng.random() < 0.6:
            value = " ".join(value[i : i + 4] for i in range(0, len(value), 4))
        return value, cc


def brute(rng: R, make: Callable[[R], str], ok: Callable[[str], bool], tries: int = 5000) -> str:
    for _ in range(tries):
        v = make(rng)
        if ok(v):
            return v
    raise AssertionError("no valid value made")


def _d(rng: R, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _date6(rng: R) -> str:
    return f"{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}{rng.randint(50, 99):02d}"


def national_id_value(rng: R) -> tuple[str, str, str]:
    """(value, country, the words a person would write before it)."""
    kind = rng.choice(
        [
            "nino",
            "ssn",
            "dni",
            "nie",
            "cf",
            "nir",
            "se",
            "fi",
            "pps",
            "aadhaar",
            "bsn",
            "idnr",
            "pesel",
        ]
    )
    L = string.ascii_uppercase
    if kind == "nino":
        while True:
            p = rng.choice("ABCEGHJKLMNPRSTWXYZ") + rng.choice("ABCEGHJKLMNPRSTWXYZ")
            if p not in {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}:
                break
        d = _d(rng, 6)
        v = f"{p}{d}{rng.choice('ABCD')}"
        if rng.random() < 0.5:
            v = f"{p} {d[:2]} {d[2:4]} {d[4:]} {v[-1]}"
        return (
            v,
            "GB",
            rng.choice(
                [
                    "my NI number is",
                    "National Insurance no.",
                    "NINO:",
                    "my national insurance number,",
                ]
            ),
        )
    if kind == "ssn":
        v = brute(
            rng,
            lambda r: f"{r.randint(1, 665):03d}-{_d(r, 2)}-{_d(r, 4)}",
            lambda s: bool(ssn.is_valid(s)),
        )
        return v, "US", rng.choice(["SSN", "my social security number is", "social security no."])
    if kind == "dni":
        n = _d(rng, 8)
        return (
            n + "TRWAGMYFPDXBNJZSQVHLCKE"[int(n) % 23],
            "ES",
            rng.choice(["DNI", "mi DNI es", "my DNI"]),
        )
    if kind == "nie":
        v = brute(
            rng,
            lambda r: r.choice("XYZ") + _d(r, 7) + r.choice(L),
            lambda s: bool(nie.is_valid(s)),
            20000,
        )
        return v, "ES", rng.choice(["NIE", "my NIE number"])
    if kind == "cf":

        def make(r: R) -> str:
            return (
                "".join(r.choice(L) for _ in range(6))
                + _d(r, 2)
                + r.choice("ABCDEHLMPRST")
                + f"{r.randint(1, 28):02d}"
                + r.choice(L)
                + _d(r, 3)
                + r.choice(L)
            )

        return (
            brute(rng, make, lambda s: bool(codicefiscale.is_valid(s)), 20000),
            "IT",
            rng.choice(["codice fiscale", "my tax code"]),
        )
    if kind == "nir":
        v = brute(
            rng,
            lambda r: (
                r.choice("12")
                + _d(r, 2)
                + f"{r.randint(1, 12):02d}"
                + f"{r.randint(1, 95):02d}"
                + _d(r, 6)
                + _d(r, 2)
            ),
            lambda s: bool(nir.is_valid(s)),
            50000,
        )
        v = (
            f"{v[0]} {v[1:3]} {v[3:5]} {v[5:7]} {v[7:10]} {v[10:13]} {v[13:]}"
            if rng.random() < 0.5
            else v
        )
        return (
            v,
            "FR",
            rng.choice(["numéro de sécurité sociale", "NIR", "my French social security number"]),
        )
    if kind == "se":
        v = brute(
            rng,
            lambda r: _date6(r)[4:] + _date6(r)[2:4] + _date6(r)[:2] + "-" + _d(r, 4),
            lambda s: bool(personnummer.is_valid(s)),
            20000,
        )
        return v, "SE", rng.choice(["personnummer", "my personal number"])
    if kind == "fi":
        v = brute(
            rng,
            lambda r: _date6(r) + "-" + _d(r, 3) + r.choice("0123456789ABCDEFHJKLMNPRSTUVWXY"),
            lambda s: bool(hetu.is_valid(s)),
            50000,
        )
        return v, "FI", rng.choice(["henkilötunnus", "HETU", "my Finnish ID"])
    if kind == "pps":
        v = brute(
            rng,
            lambda r: _d(r, 7) + r.choice("ABCDEFGHIJKLMNOPQRSTUVW"),
            lambda s: bool(pps.is_valid(s)),
            20000,
        )
        return v, "IE", rng.choice(["PPS number", "my PPSN", "PPS no."])
    if kind == "aadhaar":
        v = brute(
            rng,
            lambda r: str(r.randint(2, 9)) + _d(r, 11),
            lambda s: bool(aadhaar.is_valid(s)),
            20000,
        )
        return (
            f"{v[:4]} {v[4:8]} {v[8:]}",
            "IN",
            rng.choice(["Aadhaar", "my Aadhaar number", "aadhar no."]),
        )
    if kind == "bsn":
        return (
            brute(rng, lambda r: _d(r, 9), lambda s: bool(bsn.is_valid(s)), 20000),
            "NL",
            rng.choice(["BSN", "mijn BSN is", "burgerservicenummer"]),
        )
    if kind == "idnr":
        return (
            brute(rng, lambda r: _d(r, 11), lambda s: bool(idnr.is_valid(s)), 50000),
            "DE",
            rng.choice(["Steuer-ID", "steuerliche Identifikationsnummer", "my tax ID"]),
        )
    return (
        brute(
            rng,
            lambda r: _date6(r)[4:] + _date6(r)[2:4] + _date6(r)[:2] + _d(r, 5),
            lambda s: bool(pesel.is_valid(s)),
            50000,
        ),
        "PL",
        rng.choice(["PESEL", "my PESEL number"]),
    )


def uk_postcode(rng: R) -> str:
    area = rng.choice(
        ["SW1A", "M1", "LS6", "BS8", "EH3", "CF10", "NE1", "B15", "YO1", "BT7", "SA1", "DD1"]
    )
    return f"{area} {rng.randint(0, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"


def address_value(rng: R, pool: dict[str, list]) -> tuple[str, str]:
    c = rng.choice(["GB", "GB", "US", "DE", "FR", "ES", "IT", "NL", "GB-flat"])
    n = rng.randint(1, 240)
    if c.startswith("GB"):
        v = f"{n} {rng.choice(pool['street'])} {rng.choice(pool['suffix'])}"
        if c == "GB-flat":
            v = f"Flat {rng.randint(1, 30)}, {v}"
        r = rng.random()
        if r < 0.4:
            v += f", {rng.choice(pool['town'])} {uk_postcode(rng)}"
        elif r < 0.7:
            v += f", {rng.choice(pool['town'])}"
        return v, "GB"
    if c == "US":
        city, st = rng.choice(pool["us_city"])
        v = f"{rng.randint(10, 9999)} {rng.choice(pool['street'])} {rng.choice(['St', 'Ave', 'Blvd', 'Street', 'Avenue'])}{rng.choice(['', ' NW', ' SE'])}"
        if rng.random() < 0.7:
            v += f", {city}, {st} {rng.randint(10000, 99999)}"
        return v, "US"
    if c == "DE":
        v = f"{rng.choice(pool['de_street'])}{rng.choice(pool['de_suffix'])} {rng.randint(1, 120)}{rng.choice(['', '', 'a'])}"
        if rng.random() < 0.7:
            v += f", {rng.randint(10000, 99999)} {rng.choice(pool['de_town'])}"
        return v, "DE"
    if c == "FR":
        v = f"{n} {rng.choice(pool['fr_type'])} {rng.choice(pool['fr_street'])}"
        if rng.random() < 0.7:
            v += f", {rng.randint(10000, 95999)} {rng.choice(pool['fr_town'])}"
        return v, "FR"
    if c == "ES":
        v = f"{rng.choice(['Calle', 'Avenida', 'Plaza'])} {rng.choice(pool['es_street'])}, {rng.randint(1, 99)}"
        if rng.random() < 0.6:
            v += f", {rng.randint(10000, 52999)} Madrid"
        return v, "ES"
    if c == "IT":
        v = f"{rng.choice(['Via', 'Corso', 'Piazza'])} {rng.choice(pool['it_street'])} {rng.randint(1, 150)}"
        if rng.random() < 0.6:
            v += f", {rng.randint(10000, 98999)} {rng.choice(['Roma', 'Milano', 'Torino'])}"
        return v, "IT"
    v = f"{rng.choice(pool['nl_street'])}{rng.choice(['straat', 'laan', 'gracht'])} {rng.randint(1, 300)}"
    if rng.random() < 0.6:
        v += f", {rng.randint(1000, 9999)} {rng.choice(string.ascii_uppercase)}{rng.choice(string.ascii_uppercase)} Amsterdam"
    return v, "NL"


def email_value(rng: R, pool: dict[str, list]) -> tuple[str, str]:
    first = rng.choice(pool["first"]).lower().replace("'", "")
    last = rng.choice(pool["last"]).lower().replace("'", "").replace(" ", "")
    local = rng.choice(
        [
            f"{first}.{last}",
            f"{first}_{last}{rng.randint(1, 99)}",
            f"{first[0]}{last}+cx",
            rng.choice(LOCAL_UNICODE),
            first,
        ]
    )
    domain = rng.choice(pool["domain"] + ["gmail.com", "outlook.com", "company.co.uk"])
    v = f"{local}@{domain}"
    return (v.upper() if rng.random() < 0.05 else v), "intl" if not v.isascii() else "ascii"


def name_value(rng: R, pool: dict[str, list]) -> str:
    first = rng.choice(pool["first"])
    return first if rng.random() < 0.4 else f"{first} {rng.choice(pool['last'])}"


DEV_TEMPLATES = {
    "email": [
        "Please email me at {v} about the refund.",
        "my email is {v}, nobody replied",
        "Contact: {v}",
        "I wrote to {v} twice and heard nothing back.",
    ],
    "phone": [
        "Call me on {v} please.",
        "my mobile is {v} if the engineer is late",
        "You can reach me at {v} after 5pm.",
        "Ring {v} to rebook the install.",
    ],
    "card": [
        "You charged my card {v} twice this month.",
        "Card number {v} was declined at checkout.",
        "paid with {v} and got no receipt",
    ],
    "iban": [
        "Please refund to IBAN {v}.",
        "My bank details: {v}",
        "The direct debit should come from {v} not the old account.",
    ],
    "national_id": [
        "{ctx} {v}, in case you need it for the credit check.",
        "They asked for my {ctx}: {v}",
        "{ctx} {v}",
    ],
    "address": [
        "Please send the router to {v}.",
        "I live at {v} and the engineer never came.",
        "Delivery address: {v}",
        "The install at {v} was booked for Tuesday.",
    ],
    "name": [
        "My name is {v} and I have been a customer for years.",
        "I spoke to {v} at the Leeds store and she was brilliant.",
        "The agent called {v} sorted it in minutes.",
        "Great support, ask for {v}!",
        "The router arrived broken.\nThanks, {v}",
        "Still waiting for a refund.\nRegards,\n{v}",
    ],
}
TEST_TEMPLATES = {
    "email": [
        "Send the invoice to {v} instead of the old address.",
        "Reply to {v} - I never check the app.",
        "Why did {v} get a marketing mail after I unsubscribed?",
        "update my contact email to {v}",
    ],
    "phone": [
        "The number on my account is {v}, not the landline.",
        "Text {v} when the parcel is out for delivery.",
        "Tried calling from {v} three times, always on hold.",
        "whatsapp me {v}",
    ],
    "card": [
        "I was billed on {v} even though I cancelled.",
        "Please stop taking payments from {v}.",
        "The payment on card ending... actually the full number is {v}",
    ],
    "iban": [
        "Refund the overcharge to {v} please.",
        "Direct debit mandate for {v} was set up wrong.",
        "my account {v} was debited twice",
    ],
    "national_id": [
        "Why do you need my {ctx}? It is {v}.",
        "I gave the agent my {ctx} {v} and it still failed.",
        "For the record, {ctx} = {v}.",
    ],
    "address": [
        "The engineer went to {v} instead of my house.",
        "Moved to {v} last month and the service was not transferred.",
        "Post the new box to {v}, thanks.",
        "Our office at {v} has had no signal for a week.",
    ],
    "name": [
        "Hi, this is {first} from the flat upstairs, my name's {v}.",
        "Really helpful call - I was talking to {v} for ages and she fixed it.",
        "The engineer named {v} was polite and quick.",
        "Mrs {last} in billing was brilliant.",
        "Sorted at last, cheers – {v}",
        "Kind regards,\n{v}",
        "Please ask for {v} next time, she knows my case.",
        "Big thanks to {v} on the chat!",
    ],
}


def labelled(split: str, seed: int, per_kind: int) -> list[dict[str, str]]:
    rng = R(seed)
    pool = POOLS[split]
    templates = DEV_TEMPLATES if split == "dev" else TEST_TEMPLATES
    rows: list[dict[str, str]] = []
    for kind in templates:
        for _ in range(per_kind):
            ctx = ""
            first = rng.choice(pool["first"])
            last = rng.choice(pool["last"])
            if kind == "email":
                value, country = email_value(rng, pool)
            elif kind == "phone":
                value, country = phone_value(rng)
            elif kind == "card":
                value, country = card_value(rng)
            elif kind == "iban":
                value, country = iban_value(rng)
            elif kind == "national_id":
                value, country, ctx = national_id_value(rng)
            elif kind == "address":
                value, country = address_value(rng, pool)
            else:
                value, country = name_value(rng, pool), ""
            template = rng.choice(templates[kind])
            if "Mrs {last}" in template:
                value = f"Mrs {last}"
                text = template.replace("Mrs {last}", value)
            else:
                text = template.format(v=value, ctx=ctx, first=first, last=last)
            if kind != "name" and rng.random() < 0.2:
                text = text[0].lower() + text[1:]
            rows.append(
                {"split": split, "kind": kind, "country": country, "value": value, "text": text}
            )
    return rows


PRODUCTS = [
    "Fibre 500",
    "Fibre 900",
    "Fernbox",
    "Fernbox Mini",
    "the Hub 3",
    "Router X2",
    "Gold plan",
    "Premium Plus",
]
DEV_CLEAN = [
    "Order #{order} arrived two days late.",
    "My order {order} still says processing.",
    "I paid £{price} for {product} and it stopped working.",
    "The bill on {date} was ${price}, not what I was quoted.",
    "Engineer booked for {date} between {time} and {time2}.",
    "Tracking number {tracking} has not moved since Monday.",
    "After updating to version {version} the wifi keeps dropping.",
    "I have been with you since {year} and this is the worst year.",
    "Flat 4 never got the letter.",
    "{product} is brilliant, setup took ten minutes.",
    "Thank you",
    "Thanks!",
    "Thank you for sorting it so fast.",
    "Support was great but Billing was a mess.",
    "Onboarding took {n} days, Renewal was easy.",
    "Invoice INV-{order} was wrong again.",
    "Ticket {order} was closed without an answer.",
    "Speeds of {n}0 Mbps at {time}, promised 500.",
    "The {product} upgrade cost {price} EUR a month.",
    "Called support {n} times in {year}.",
    "Account FH-{six} has the wrong plan on it.",
    "Reference {order} please, and thanks again.",
    "I'm very happy with {product}.",
    "I'm not impressed.",
    "This is the third time I have complained.",
    "Spoke to someone in support who was lovely.",
    "Ask for a refund and they hang up.",
    "Best broadband we've ever had. Thanks",
    "Cheers for the quick install!",
    "Regards",
    "Use the app, it is much faster.",
    "It was on {date2}, around {time}.",
    "Paid 1 000 EUR upfront, then {price} a month.",
    "{n}/10 would recommend.",
    "Router model {tracking} keeps rebooting.",
    "Discount code SUMMER{n}{n} did not work.",
    "Price went from £{price} to £{price2} without notice.",
    "I'm on the {product} plan since {year}.",
]
TEST_CLEAN = [
    "Parcel {tracking} went to the depot and back twice.",
    "Charged €{price} on {date2} for a month I had cancelled.",
    "Got {product} on {date}, returned it on {date2}.",
    "Could not log in after the {version} update, fixed by {version2}.",
    "We are in Flat 4 and the signal is fine upstairs.",
    "The {year} price rise was never explained.",
    "Case {order} escalated, no reply in {n} weeks.",
    "Reception said order no. {order} was lost.",
    "Thank you, really appreciate the help.",
    "Thanks a lot!",
    "Many thanks.",
    "Billing Team sent three emails in one day.",
    "Purchase was smooth, Onboard was not.",
    "Renew? Not at this price.",
    "Discover page was confusing.",
    "The Support Team fixed it at {time}.",
    "Upgraded to {product} for £{price}/month.",
    "Hold time was {n}:{n}0 at {time}.",
    "I'm moving house in {year}.",
    "I'm disappointed, to be honest.",
    "I am Gold member and still waited.",
    "Talked to the bot, useless.",
    "Speaking to a human took {n} calls.",
    "Invoice dated {date} shows {price}.",
    "Serial number {tracking} on the box.",
    "Meter reading {six} sent on {date}.",
    "Room 12, gate 22, seat 14B - wrong confirmation email.",
    "Build {version} of the app crashes.",
    "Paid {price} USD on {date}.",
    "Kind regards",
    "Cheers!",
    "All good now, thanks again.",
    "Policy {order} renewed automatically, no reminder.",
    "Wi-Fi drops every {n} minutes since {date}.",
    "Best regards from a happy customer.",
    "From {year} to {year2} no issues at all.",
    "The 5 Star Service badge is a joke.",
    "It's a 3 hour drive to the nearest store.",
    "Tom Tom satnav works fine with the hotspot.",
    "Called on {date2} at {time}, nobody picked up.",
]


def clean(split: str, seed: int, count: int) -> list[dict[str, str]]:
    rng = R(seed)
    templates = DEV_CLEAN if split == "dev" else TEST_CLEAN
    rows = []
    for _ in range(count):
        year = rng.randint(2015, 2026)
        fill = {
            "order": str(rng.randint(10**5, 10**10)),
            "price": f"{rng.randint(1, 2400):,}.{rng.randint(0, 99):02d}",
            "price2": f"{rng.randint(1, 99)}.{rng.randint(0, 99):02d}",
            "product": rng.choice(PRODUCTS),
            "date": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "date2": f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{year}",
            "time": f"{rng.randint(7, 20)}:{rng.choice(['00', '15', '30', '45'])}",
            "time2": f"{rng.randint(7, 20)}:{rng.choice(['00', '30'])}",
            "tracking": rng.choice(["1Z", "JD", "RR", "TBA"])
            + "".join(
                rng.choice(string.digits + string.ascii_uppercase)
                for _ in range(rng.randint(9, 16))
            ),
            "version": f"{rng.randint(1, 12)}.{rng.randint(0, 20)}.{rng.randint(0, 99)}",
            "version2": f"{rng.randint(1, 12)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}.{rng.randint(0, 999)}",
            "year": str(year),
            "year2": str(year + rng.randint(1, 5)),
            "n": str(rng.randint(2, 9)),
            "six": str(rng.randint(10**5, 10**6 - 1)),
        }
        rows.append({"split": split, "text": rng.choice(templates).format(**fill)})
    return rows


def sample_company_texts() -> list[str]:
    texts: list[str] = []
    d = ROOT / "app" / "sample_data"
    with (d / "surveys" / "nps-relationship-2026q3.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            texts += [
                row[k]
                for k in ("reason_for_score", "onboarding_experience", "one_thing_to_improve")
            ]
    with (d / "surveys" / "touchpoint-nps-2026q3.csv").open(encoding="utf-8") as f:
        texts += [row["Comment"] for row in csv.DictReader(f)]
    with (d / "calls" / "call-notes-2026q3.csv").open(encoding="utf-8") as f:
        texts += [row["notes"] for row in csv.DictReader(f)]
    data = json.loads((d / "surveys" / "support-csat-2026q3.json").read_text(encoding="utf-8"))
    texts += [r[k] for r in data["responses"] for k in ("comment", "improve")]
    # Three of these answers hold a made-up e-mail, card or phone number (read by hand):
    # personal data, so not clean. Left out: any answer with "@" or 9+ digits in a run.
    many_digits = re.compile(r"\d(?:[ -]?\d){8}")
    return [
        t.strip()
        for t in texts
        if t and t.strip() and "@" not in t and many_digits.search(t) is None
    ]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rows = labelled("dev", 1, 45) + labelled("test", 2, 60)
    with (OUT / "labelled.jsonl").open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    sample = [{"split": "test", "text": t} for t in sample_company_texts()]
    clean_rows = clean("dev", 1, 1200) + clean("test", 2, 1600) + sample
    with (OUT / "clean.jsonl").open("w", encoding="utf-8") as f:
        for row in clean_rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} labelled, {len(clean_rows)} clean ({len(sample)} from app/sample_data)")


if __name__ == "__main__":
    main()
