"""Charts as inline SVG, drawn on the server in a few lines each (fewer and clearer
than a chart library's configuration for three small charts). Every chart is an
`<svg role="img">` with a `<title>` and an `aria-label` giving its numbers, and
colours that keep 3:1 against white (WCAG 1.4.11); the pages put a table of the
same numbers beside the bigger ones."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

NEGATIVE = "#b2182b"
NEUTRAL = "#767676"
POSITIVE = "#1b7837"
VOICES = "#2b5d8a"
AXIS = "#595959"


@dataclass(frozen=True, slots=True)
class WeekBar:
    start: date
    end: date
    voices: int
    negative: int


@dataclass(frozen=True, slots=True)
class DayBar:
    day: date
    negative: int
    neutral: int
    positive: int

    @property
    def voices(self) -> int:
        return self.negative + self.neutral + self.positive


def _f(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(width: int, height: int, label: str, body: str, css: str) -> Markup:
    text = escape(label)
    return Markup(
        f'<svg class="{css}" viewBox="0 0 {width} {height}" role="img" aria-label="{text}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{text}</title>{body}</svg>'
    )


def sparkline(weeks: Sequence[WeekBar]) -> Markup:
    """Voices per week as bars, each bar's negative part in red at its foot."""
    width, height, gap = 120, 30, 2
    top = max((w.voices for w in weeks), default=0) or 1
    step = width / max(len(weeks), 1)
    parts = []
    for i, week in enumerate(weeks):
        x, w = i * step + gap / 2, step - gap
        h = height * week.voices / top
        n = height * week.negative / top
        parts.append(
            f'<rect x="{_f(x)}" y="{_f(height - h)}" width="{_f(w)}" height="{_f(h)}" '
            f'fill="{VOICES}"/>'
        )
        if week.negative:
            parts.append(
                f'<rect x="{_f(x)}" y="{_f(height - n)}" width="{_f(w)}" height="{_f(n)}" '
                f'fill="{NEGATIVE}"/>'
            )
    parts.append(
        f'<line x1="0" y1="{height}" x2="{width}" y2="{height}" stroke="{AXIS}" stroke-width="1"/>'
    )
    label = "Voices per week, last 12 weeks: " + ", ".join(str(w.voices) for w in weeks)
    label += "; of them negative: " + ", ".join(str(w.negative) for w in weeks)
    return _svg(width, height + 1, label, "".join(parts), "spark")


def _nice(top: int) -> int:
    """The smallest of 1, 2, 5 x 10^k at or above `top` (an axis people read)."""
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= top:
                return step * scale
        scale *= 10


def daily_chart(days: Sequence[DayBar]) -> Markup:
    """Voices per day, stacked: negative at the foot, neutral, positive on top."""
    width, height, left, bottom, top_pad = 600, 190, 34, 22, 8
    plot_w, plot_h = width - left - 4, height - bottom - top_pad
    top = _nice(max((d.voices for d in days), default=0) or 1)
    step = plot_w / max(len(days), 1)
    bar = max(step - (1 if step > 3 else 0), 0.5)
    parts = []
    for tick in (0, top // 2 if top > 1 else None, top):
        if tick is None:
            continue
        y = top_pad + plot_h - plot_h * tick / top
        parts.append(
            f'<line x1="{left}" y1="{_f(y)}" x2="{width - 4}" y2="{_f(y)}" stroke="#d0d0d0"/>'
            f'<text x="{left - 4}" y="{_f(y + 4)}" text-anchor="end" class="tick">{tick}</text>'
        )
    for i, d in enumerate(days):
        x = left + i * step
        y = top_pad + plot_h
        for value, colour in ((d.negative, NEGATIVE), (d.neutral, NEUTRAL), (d.positive, POSITIVE)):
            if not value:
                continue
            h = plot_h * value / top
            y -= h
            parts.append(
                f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(bar)}" height="{_f(h)}" fill="{colour}"/>'
            )
    if days:
        marks = {0: "start", len(days) - 1: "end"}
        if len(days) > 2:
            marks[len(days) // 2] = "middle"
        for i, anchor in sorted(marks.items()):
            x = left + i * step + bar / 2
            text_anchor = {"start": "start", "end": "end", "middle": "middle"}[anchor]
            parts.append(
                f'<text x="{_f(x)}" y="{height - 6}" text-anchor="{text_anchor}" class="tick">'
                f"{days[i].day.day} {days[i].day:%b}</text>"
            )
    total = sum(d.voices for d in days)
    label = (
        f"Voices per day, {len(days)} days, {total} voices: negative in red at the foot "
        "of each bar, neutral grey, positive green on top"
    )
    return _svg(width, height, label, "".join(parts), "daily")


def channel_bars(channels: Mapping[str, int]) -> Markup:
    """Voices per channel, one labelled horizontal bar each, the biggest first."""
    rows = sorted(channels.items(), key=lambda kv: (-kv[1], kv[0]))
    width, row_h, label_w, num_w = 360, 24, 96, 44
    height = max(len(rows), 1) * row_h
    top = max((v for _, v in rows), default=0) or 1
    parts = []
    for i, (channel, voices) in enumerate(rows):
        y = i * row_h
        w = (width - label_w - num_w) * voices / top
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end" class="tick">'
            f"{escape(channel)}</text>"
            f'<rect x="{label_w}" y="{y + 4}" width="{_f(w)}" height="{row_h - 8}" '
            f'fill="{VOICES}"/>'
            f'<text x="{_f(label_w + w + 6)}" y="{y + 16}" class="tick">{voices:,}</text>'
        )
    label = "Voices per channel: " + ", ".join(f"{c} {v}" for c, v in rows)
    return _svg(width, height, label, "".join(parts), "channels")
