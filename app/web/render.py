"""Jinja2 rendering of the pages and the digest (templates shipped in the package),
and the digest's Markdown form."""

from __future__ import annotations

from datetime import date
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from app.outcomes.pages import OutcomesBand
from app.outcomes.said_did import StageOutcome
from app.web.periods import PageQuery
from app.web.service import JourneyView, StageView, Tone, share


def num(value: int | None) -> str:
    """A whole number as people read it (1,234); None (not known) as an en dash."""
    return "–" if value is None else f"{value:,}"


def signed(value: int | None) -> str:
    return "–" if value is None else f"{value:+,}"


def day_words(value: str | date | None) -> str:
    if value is None or value == "":
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(value[:10])
    return f"{day.day} {day:%b %Y}"


def period_words(date_from: str | None, date_to: str | None) -> str:
    """The period as a person says it: "1 Sep 2026 – 30 Sep 2026", "since ...", "all time"."""
    if date_from and date_to:
        return f"{day_words(date_from)} – {day_words(date_to)}"
    if date_from:
        return f"since {day_words(date_from)}"
    if date_to:
        return f"up to {day_words(date_to)}"
    return "all time"


def href(path: str, query: PageQuery | None) -> str:
    return path if query is None else f"{path}?{query.query_string()}"


def outcome_of(band: OutcomesBand, key: str) -> StageOutcome | None:
    """A stage's said-versus-did row on the journey page."""
    return next((s for s in band.said_did.stages if s.key == key), None)


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("app.web", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=num, signed=signed, day=day_words)
    env.globals.update(
        period_words=period_words, href=href, share=share, Tone=Tone, outcome_of=outcome_of
    )
    return env


ENV = _env()


def render(template: str, **context: Any) -> str:
    return ENV.get_template(template).render(**context)


def journey_html(view: JourneyView, *, standalone: bool = False, base_url: str = "") -> str:
    """The journey page; `standalone` (the digest) leaves out the controls, and links
    to stage pages only when a `base_url` says where the service is."""
    return render("journey.html", v=view, f=view.frame, standalone=standalone, base_url=base_url)


def stage_html(view: StageView) -> str:
    return render("stage.html", v=view, f=view.frame, standalone=False, base_url="")


def alerts_html(groups: list[tuple[str, list[Any]]], severity: dict[str, str]) -> str:
    from app.alerts.delivery import page_path

    return render(
        "alerts.html",
        groups=groups,
        severity=severity,
        link=page_path,
        standalone=False,
        base_url="",
    )


def error_html(status: int, message: str) -> str:
    return render("error.html", status=status, message=message, standalone=False, base_url="")


def journey_markdown(view: JourneyView, *, base_url: str = "") -> str:
    """The digest for chat tools: the same numbers as the page, as a Markdown table."""
    story, q = view.story, view.frame.query
    lines = [
        f"# The journey story: {period_words(q.api_from, q.api_to)}",
        "",
        f"**{num(story.voices)} voices**, {num(story.customers)} customers"
        + (
            f", NPS {signed(story.nps.score)} from {num(story.nps.answers)} answers"
            if story.nps
            else ""
        )
        + (
            f"; {signed(story.compare.voices.change)} voices against "
            f"{period_words(story.compare.date_from, story.compare.date_to)}"
            if story.compare is not None
            else ""
        )
        + ".",
        "",
    ]
    if view.outcomes is not None:
        a = view.outcomes.asset
        lines.append(
            f"**Customer asset**: {num(a.customers_start)} customers at the start, "
            f"+{num(a.gained)} gained, -{num(a.lost)} lost (worth {a.value_lost:,.0f} a year), "
            f"{num(a.customers_end)} at the end (net {signed(a.net)})."
        )
        for stage in view.outcomes.said_did.stages:
            r = stage.negative
            if r.customers and r.lift is not None:
                lines.append(
                    f"- {stage.name}: {num(r.with_event)} of {num(r.customers)} who complained "
                    f"left within {view.outcomes.said_did.window_days} days "
                    f"({r.lift:.1f}x the rest); {stage.revenue_at_risk:,.0f} a year at risk"
                )
        lines.append("")
    if view.frame.alerts:
        lines.append("**Open alerts**")
        lines.extend(
            f"- {a.severity}: {a.title} ({a.stage_key or 'journey'}, fired {day_words(a.fired_on)})"
            for a in view.frame.alerts
        )
        lines.append("")
    compare = story.compare is not None
    head = ["stage", "feeling", "voices", "customers", "NPS"]
    if compare:
        head += ["voices change", "customers change"]
    head.append("most said")
    lines.append("| " + " | ".join(head) + " |")
    lines.append(
        "|"
        + "|".join("---" if i in (0, 1, len(head) - 1) else "---:" for i in range(len(head)))
        + "|"
    )
    for card in view.cards:
        s = card.stage
        name = f"[{s.name}]({base_url}/stages/{s.key}?{q.query_string()})" if base_url else s.name
        row = [
            name,
            f"{card.tone.label} ({share(s.sentiment.negative, s.voices)}% negative)"
            if s.voices
            else card.tone.label,
            num(s.voices),
            num(s.customers),
            f"{signed(s.nps.score)} ({num(s.nps.answers)})" if s.nps else "",
        ]
        if compare:
            row += [
                signed(s.compare.voices.change) if s.compare else "",
                signed(s.compare.customers.change) if s.compare else "",
            ]
        row.append(", ".join(f"{p.phrase} ({num(p.count)})" for p in s.top_phrases[:3]))
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    lines += [
        "",
        f"{num(story.unassigned)} voices spoke of no stage. Data up to {day_words(view.frame.anchor)}.",
    ]
    return "\n".join(lines) + "\n"
