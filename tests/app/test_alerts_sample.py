"""The sample company with a planted surge of billing complaints: the early warning
fires on the surge's day and a local webhook receiver gets the message (run with
`-s` to see the payload)."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine

from app.alerts import delivery, service
from app.runtime import build_runtime
from app.settings import Settings, sample_journey_file, sample_sources_file
from tests.app.test_alerts import Receiver, receiver  # noqa: F401  (the fixture)

SURGE_DAY = date(2026, 10, 29)
COMPLAINTS = [
    "I was charged twice this month and nobody has refunded me.",
    "Double charged again on my October bill, this is the third time.",
    "My bill went up without warning and the refund never arrived.",
    "You took two payments for one month. Sort my bill out.",
]


def plant(folder: Path, hook_url: str) -> Path:
    """A copy of the sample sources with one day of billing complaints and a webhook."""
    shutil.copytree(sample_sources_file().parent, folder, dirs_exist_ok=True)
    with (folder / "surveys" / "billing-pulse.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "submitted_at", "customer_id", "comment"])
        for n in range(24):
            writer.writerow(
                [
                    f"B{n}",
                    f"{SURGE_DAY}T{9 + n % 9:02d}:{n:02d}:00",
                    f"FH-9{n:04d}",
                    COMPLAINTS[n % 4],
                ]
            )
    sources = folder / "sources.yaml"
    sources.write_text(
        sources.read_text(encoding="utf-8")
        + f"""
  - id: billing-pulse
    name: Billing pulse survey
    kind: survey_file
    config:
      path: surveys/billing-pulse.csv
      id_column: id
      date_column: submitted_at
      customer_column: customer_id
      answers:
        - {{column: comment, question: "Anything about your bill?"}}

alerts:
  webhooks:
    - name: cx-slack
      url: {hook_url}/slack
      format: slack
      allow_networks: [127.0.0.1]
""",
        encoding="utf-8",
    )
    return sources


def test_a_planted_surge_on_the_sample_company_reaches_a_webhook(
    engine: Engine,
    tmp_path: Path,
    receiver: Receiver,  # noqa: F811
) -> None:
    sources = plant(tmp_path / "fernhill", receiver.url)
    settings = Settings(
        database_url=str(engine.url),
        sources_file=sources,
        journey_file=sample_journey_file(),
        scheduler_enabled=False,
    )
    runtime = build_runtime(settings, engine=engine)
    try:
        for source_id in runtime.sources:
            assert runtime.jobs.sync(source_id).status == "succeeded"
        result = service.evaluate(
            runtime.engine,
            runtime.journey,
            runtime.alerts,
            until=SURGE_DAY,
            base_url="http://lp.local",
        )
        billing = [a for a in result.fired if a.stage == "billing"]
        assert [a.detector for a in billing] == ["negative_surge"]
        assert billing[0].fired_day == SURGE_DAY
        texts = [q["text"] for q in billing[0].quotes]
        assert len(texts) >= 2
        assert len(set(texts)) == len(texts)
        with httpx.Client() as client:
            assert delivery.send_due(runtime.engine, runtime.alerts, client=client) >= 1
    finally:
        runtime.close()
    sent = [r for r in receiver.requests if r["path"] == "/slack"]
    assert sent
    body = sent[0]["body"]
    assert "billing" in json.dumps(body)
    assert f"http://lp.local/stages/billing?from={SURGE_DAY}" in json.dumps(body)
    print(json.dumps(body, indent=2, ensure_ascii=False))  # noqa: T201 (shown with -s)
