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
        self._last_was_block = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:  # noqa: ARG002
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag == "br":
            self.parts.append("\n")  # each <br> counts: two of them make a blank line
            self._last_was_block = False
        elif tag in _BLOCKS:
            self._block_break(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self._block_break(tag)

    def _block_break(self, tag: str) -> None:
        """A block boundary: a line break, a blank line around paragraphs; never stacked."""
        wanted = "\n\n" if tag in _PARAGRAPHS else "\n"
        if self.parts and self.parts[-1] in ("\n", "\n\n") and self._last_was_block:
            if len(wanted) > len(self.parts[-1]):
                self.parts[-1] = wanted
            return
        self.parts.append(wanted)
        self._last_was_block = True

    def handle_data(self, data: str) -> None:
        if self._hidden or (self._last_was_block and not data.strip()):
            return  # whitespace next to a block boundary means nothing in HTML
        self.parts.append(_WHITESPACE.sub(" ", data))
        self._last_was_block = False


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
