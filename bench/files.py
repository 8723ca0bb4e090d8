"""File-reading memory and speed: a generated survey CSV read through `survey_file`,
connector only (no database, no NLP), in a fresh process whose peak RSS is the reading's.

    python bench/files.py [--mb 200] [--batch-size 200] [--code PATH] [--keep DIR]

The CSV is shaped like a real export (Excel on Windows): CRLF line ends, a UTF-8
byte-order mark, accented words and euro signs, quoted cells with commas, one answer
in 40 spread over several lines, empty answers. It is written once (row by row, so
the writer holds no file either) under `--keep` (default: a temporary folder,
removed at the end) and read by a child process: `python bench/files.py --read`.
The child prints its peak RSS (VmHWM) and its RSS before the fetch (interpreter
and imports), the records it got and how long the fetch took, in wall-clock and in
CPU seconds (the figure to compare on a machine shared with other work).

`--code PATH` reads with the `connectors` package of another checkout (e.g. the main
branch's, for a before/after figure): the child puts PATH first on sys.path.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Run as `python bench/files.py`, this file's folder comes first on sys.path: put the
# project root there instead (the child: the checkout `--code` names).
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, os.environ.get("LP_BENCH_CODE") or str(_HERE.parent))

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

CONFIG: dict[str, Any] = {
    "path": "survey.csv",
    "id_column": "response_id",
    "date_column": "submitted_at",
    "score_column": "nps",
    "rating_scale": "nps_0_10",
    "answers": [{"column": "comment", "question": "Anything else?"}, {"column": "why"}],
    "attributes": ["plan", "region"],
}
SAYINGS = [
    "Setup was easy and the onboarding call helped a lot",
    "The invoice was wrong again, I was charged twice this month",
    "Support answered quickly, thanks to Amélie at the help desk",
    "The app crashes every evening when I open the dashboard",
    "Too pricey for what it does: €49 a month, and the export is slow",
    "I renewed for another year – happily",
    "Could not connect the device, the installer never came",
    'My manager said "just cancel it", so we are leaving at renewal',
]
PLANS = ["free", "pro", "team", "enterprise"]
REGIONS = ["Île-de-France", "Bayern", "Lombardia", "Catalunya", "Ontario", "Texas"]


def quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def write_csv(path: Path, megabytes: int, seed: int = 19) -> int:
    """Write a survey export of about `megabytes` MB; return its number of data rows."""
    rng = random.Random(seed)
    target = megabytes * 1_000_000
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows = 0
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        out.write("response_id,submitted_at,nps,comment,why,plan,region\r\n")
        while out.tell() < target:
            for _ in range(1000):
                rows += 1
                when = start + timedelta(seconds=rows * 37)
                comment = " ".join(rng.sample(SAYINGS, rng.randint(1, 3)))
                if rows % 40 == 0:
                    comment = comment.replace(", ", ",\r\n", 2) + "\r\n\r\n-- sent from my phone"
                why = "" if rows % 3 else rng.choice(SAYINGS)
                out.write(
                    f"r{rows},{when:%Y-%m-%dT%H:%M:%S},{rng.randint(0, 10)},{quoted(comment)},"
                    f"{quoted(why) if why else ''},{rng.choice(PLANS)},{rng.choice(REGIONS)}\r\n"
                )
    return rows


def vm(field: str) -> float:
    """This process's `/proc` memory figure `field` (VmHWM: peak RSS, VmRSS: now), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def read(folder: Path, batch_size: int) -> dict[str, Any]:
    """The child: fetch every batch of the file, keep nothing, say what it cost."""
    from connectors.registry import get_connector_class

    connector = get_connector_class("survey_file").from_mapping(
        {**CONFIG, "batch_size": batch_size}, base_dir=folder
    )
    before = vm("VmRSS")
    items = rejects = 0
    started, cpu = time.perf_counter(), time.process_time()
    for batch in connector.fetch(None):
        items += len(batch.items)
        rejects += len(batch.rejected)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    import connectors

    return {
        "code": str(Path(connectors.__file__).resolve().parent.parent),
        "items": items,
        "rejects": rejects,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rss_before_mb": before,
        "peak_rss_mb": vm("VmHWM"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="size of the CSV (MB)")
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--code", type=Path, help="checkout whose `connectors` reads the file")
    parser.add_argument("--keep", type=Path, help="folder for the CSV, kept for the next run")
    parser.add_argument("--read", type=Path, help=argparse.SUPPRESS)  # the child
    args = parser.parse_args()
    if args.read is not None:
        print(json.dumps(read(args.read, args.batch_size)))
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="lp-bench-files-"))
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, rows_path = folder / "survey.csv", folder / "survey.rows"
    try:
        if not csv_path.exists() or not rows_path.exists() or args.keep is None:
            print(f"writing a {args.mb} MB survey CSV ...", flush=True)
            rows_path.write_text(str(write_csv(csv_path, args.mb)))
        rows = int(rows_path.read_text())
        size_mb = csv_path.stat().st_size / 1e6
        code = (args.code or _HERE.parent).resolve()
        child = [sys.executable, str(Path(__file__).resolve()), "--read", str(folder)]
        child += ["--batch-size", str(args.batch_size)]
        env = {**os.environ, "LP_BENCH_CODE": str(code)}
        done = subprocess.run(child, check=True, capture_output=True, text=True, env=env)
        got = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"code: {got['code']}")
        print(
            f"file: {size_mb:.0f} MB, {rows:,} rows ({got['items']:,} items, {got['rejects']} rejects)"
        )
        print(
            f"peak RSS: {got['peak_rss_mb']:.0f} MB (before the fetch: {got['rss_before_mb']:.0f} MB)"
        )
        print(
            f"rows/s: {rows / got['seconds']:,.0f} ({got['seconds']:.1f} s wall); "
            f"per CPU second: {rows / got['cpu_seconds']:,.0f} ({got['cpu_seconds']:.1f} s CPU)"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
