"""HTML (as Mastodon and most social APIs return it) to plain text, stdlib only."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from connectors.parsing import tidy

_BLOCKS = frozenset(
    {"p", "div", "blockquote", "ul", "ol", "li", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}
)
_PARAGRAPHS = frozenset({"p", "blockquote", "pre"})
_HIDDEN = frozenset({"script", "style", "template"})
_WHITESPACE = re.compile(r"\s+")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:  # noqa: ARG002
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self.parts.append("\n\n" if tag in _PARAGRAPHS else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n\n" if tag in _PARAGRAPHS else "\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(_WHITESPACE.sub(" ", data))


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment.

    Paragraphs are separated by a blank line, `<br>` is a line break, links keep
    their text (Mastodon's hidden URL parts included, so a URL reads whole),
    entities are decoded, scripts and styles dropped, spaces collapsed.
    """
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return tidy("".join(parser.parts))
