"""E-mail addresses, internationalised ones included (RFC 6531: Unicode local parts and
domains such as `josé@exämple.de` or `用户@例子.广告`; punycode `xn--` labels too)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from nlp.pii.spans import Found

_ATOM = r"[\w!#$%&'*+/=?^`{|}~-]+"
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
EMAIL_RE = re.compile(
    rf"(?<![\w!#$%&'*+/=?^`{{|}}~.-]){_ATOM}(?:\.{_ATOM})*"
    rf"[@＠]{_LABEL}(?:\.{_LABEL})*\.(?:[^\W\d_]{{2,63}}|xn--[a-z0-9-]{{2,59}})(?![\w-])"
)


def find_emails(text: str) -> Iterator[Found]:
    for m in EMAIL_RE.finditer(text):
        yield Found(m.start(), m.end(), "email")
