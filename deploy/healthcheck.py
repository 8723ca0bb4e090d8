"""The container's healthcheck: exit 0 when the URL answers 200, else 1 with the reason.

    python healthcheck.py                      # this replica's /health on LP_PORT (serve)
    python healthcheck.py http://127.0.0.1:9100/metrics  # a worker's metrics port

The standard library only: the image has no curl or wget.
"""

from __future__ import annotations

import os
import sys
import urllib.request


def main(argv: list[str]) -> int:
    port = os.environ.get("LP_PORT", "8000")
    url = argv[1] if len(argv) > 1 else f"http://127.0.0.1:{port}/health"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            status = response.status
    except Exception as exc:  # any failure is "unhealthy", said in one line
        sys.stderr.write(f"unhealthy: {url}: {exc}\n")
        return 1
    if status != 200:
        sys.stderr.write(f"unhealthy: {url}: HTTP {status}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
