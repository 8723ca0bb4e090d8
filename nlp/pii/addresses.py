"""Street addresses in the shapes customers write them.

- UK / US / IE / AU: a house number, one to four capitalised name words and a street
  word ("Street", "Rd", "Avenue", "Close", ...), an optional direction ("NW"), then
  optionally the town and a postcode or a state and ZIP ("10 Downing Street, London
  SW1A 2AA", "1600 Pennsylvania Ave NW, Washington, DC 20500"); "Flat 4, " or
  "Apt 2B, " before the number is taken with it. Written in lower case only after
  "live at", "address is", "deliver to", ...;
- a UK postcode on its own;
- German / Dutch: a street word joined to the name ("Hauptstraße 5", "Kerkstraat 12")
  or a separate one ("Berliner Straße 12"), then the number, then optionally the
  postcode and city ("10115 Berlin", "1012 AB Amsterdam");
- French / Spanish / Italian: "12 rue de la Paix", "Calle Mayor 5", "Via Roma 10",
  "Avenida de América, 3", optionally followed by a five-digit postcode and city.

"Flat 4" alone, a number before an ordinary word ("5 Star Service", "3 hour drive")
and street names without a number are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from nlp.pii.spans import Found

_UP = "A-ZÀ-ÖØ-Þ"
_LOW = "a-zß-öø-ÿ"
_CAP = rf"[{_UP}][{_LOW}'’-]*[{_LOW}]"
_WORD_LC = rf"[{_LOW}][{_LOW}'’-]*"
_SUFFIX = (
    r"(?:Street|St|Road|Rd|Avenue|Ave|Av|Lane|Ln|Drive|Dr|Close|Cl|Way|Court|Ct|Crescent|"
    r"Cres|Place|Pl|Gardens|Gdns|Terrace|Terr|Ter|Grove|Gr|Square|Sq|Mews|Row|Walk|Park|"
    r"Parade|Rise|Hill|Green|View|Boulevard|Blvd|Highway|Hwy|Parkway|Pkwy|Circle|Cir|"
    r"Trail|Trl|Broadway|Esplanade|Embankment|Wynd|Brae|Vale|Chase|Gate|Yard|Quay|Wharf|"
    r"Heights|Meadows|Approach|Causeway)"
)
_HOUSE = r"\d{1,5}[A-Za-z]?(?:[-–/]\d{1,5}[A-Za-z]?)?"
_UNIT = r"(?:(?:Flat|Apartment|Apt|Unit|Suite|Ste|Room)\.?\s\w{1,5},?\s)?"
_DIRECTION = r"(?:\s(?:NW|NE|SW|SE|N|S|E|W|North|South|East|West)\b)?"
_UK_POSTCODE = r"(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})"
_US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|"
    "NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY"
)
_TOWN = rf"{_CAP}(?:[ -]{_CAP}){{0,2}}"
_TAIL = (
    rf"(?:,?\s(?:{_TOWN},?\s)?(?:{_UK_POSTCODE}|(?:{_US_STATES})\s\d{{5}}(?:-\d{{4}})?)\b"
    rf"|,\s{_TOWN}(?=\s*(?:[,.;!?)\n]|$)))?"
)
_ORDINAL = r"\d{1,3}(?:st|nd|rd|th)"
STREET_RE = re.compile(
    r"(?<![\w£$€.,])" + _UNIT + _HOUSE + rf",?\s(?:(?:{_CAP}|{_ORDINAL})\s){{1,4}}"
    rf"{_SUFFIX}\.?(?![\w'-]){_DIRECTION}{_TAIL}"
)
_STREET_LC = re.compile(
    rf"(?<![\w£$€.,]){_HOUSE},?\s(?:{_WORD_LC}\s){{1,3}}(?i:{_SUFFIX})\b(?:,\s[{_LOW}]+(?=[,.\s]|$))?",
)
_LC_TRIGGER = re.compile(
    r"(?:\blive|\bliving|\blives|\baddress|\bmoved|\bmoving|\bdeliver\w*|\bsent|\bsend|"
    r"\bship\w*|\bpost\w*|\bat|\bto|\bfrom|\bhouse|\bhome|\bflat|\bproperty)\b[^.\n]{0,20}$",
    re.IGNORECASE,
)
POSTCODE_RE = re.compile(rf"(?<![\w-]){_UK_POSTCODE}(?![\w-])")
# German / Dutch: street word joined to the name, or a separate word after an adjective.
_GERMANIC = (
    r"(?:stra(?:ß|ss)e|str\.|weg|platz|gasse|allee|ring|damm|ufer|chaussee|steig|pfad|"
    r"markt|straat|laan|gracht|plein|kade|singel|dijk|dreef|hof|steeg)"
)
_EU_TAIL = rf"(?:,?\s(?:D-|NL-|A-|CH-)?(?:\d{{5}}|\d{{4}}\s?[A-Z]{{2}}|\d{{4}})\s{_TOWN})?"
GERMANIC_RE = re.compile(
    rf"(?<![\w])(?:{_CAP}[ -])?(?:[{_UP}][{_LOW}]*{_GERMANIC}|(?:Straße|Strasse|Weg|Platz|Allee|Gasse))"
    rf"\s\d{{1,4}}(?:\s?[a-zA-Z])?(?![\w]){_EU_TAIL}"
)
_PARTICLE = (
    r"(?:de|du|des|de la|de l'|d'|la|le|les|del|de los|de las|della|dei|degli|di|da|dos|das)"
)
_NAME_RUN = rf"(?:{_PARTICLE}\s?)?{_CAP}(?:\s(?:{_PARTICLE}\s?)?{_CAP}){{0,3}}"
_ROMANCE_BEFORE = (
    r"(?i:rue|avenue|av\.|boulevard|bd|place|pl\.|chemin|allée|impasse|quai|route|cours|"
    r"passage|square|faubourg)"
)
_ROMANCE_AFTER = (
    r"(?:Calle|C/|Avenida|Avda\.?|Plaza|Pza\.?|Paseo|Camino|Carrer|Ronda|Travesía|"
    r"Via|Viale|Piazza|Piazzale|Corso|Largo|Vicolo|Rua|Praça|Travessa|Avinguda|Passeig)"
)
_ROMANCE_TAIL = rf"(?:,?\s(?:\d{{5}}|\d{{4}}-\d{{3}})\s{_TOWN})?"
FRENCH_RE = re.compile(
    rf"(?<![\w.,]){_HOUSE}(?:\s?(?:bis|ter))?,?\s{_ROMANCE_BEFORE}\s{_NAME_RUN}{_ROMANCE_TAIL}"
)
SOUTHERN_RE = re.compile(
    rf"(?<![\w]){_ROMANCE_AFTER}\s{_NAME_RUN},?\s(?:n\.?º?\s?|nº\s?|n\.\s?)?\d{{1,4}}[a-zA-Z]?"
    rf"(?![\w]){_ROMANCE_TAIL}"
)
_HINT = re.compile(r"\d")


def find_addresses(text: str) -> Iterator[Found]:
    if _HINT.search(text) is None:
        return
    for pattern in (STREET_RE, GERMANIC_RE, FRENCH_RE, SOUTHERN_RE, POSTCODE_RE):
        for m in pattern.finditer(text):
            yield Found(m.start(), m.end(), "address")
    for m in _STREET_LC.finditer(text):
        if _LC_TRIGGER.search(text[max(0, m.start() - 30) : m.start()]):
            yield Found(m.start(), m.end(), "address")
