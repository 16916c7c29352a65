"""The real Prometheus tools for the tests: `promtool` and `prometheus` (Debian's `prometheus`
package; `make prometheus` installs it). Missing: skipped on a laptop, a failure in CI."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tests.kafka_support import skip_or_fail

ROOT = Path(__file__).resolve().parent.parent
PROMETHEUS_DOCS = ROOT / "docs" / "prometheus"


def tool(name: str) -> str:
    """The path of `name` (promtool or prometheus), or skip/fail."""
    found = shutil.which(name)
    if found is None:
        skip_or_fail(f"{name} is not installed (apt-get install prometheus, or `make prometheus`)")
    return found


def promtool(args: Sequence[str], stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run promtool with `args` (and `stdin`), bounded to a minute."""
    return subprocess.run(
        [tool("promtool"), *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
