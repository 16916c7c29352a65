"""`make bench`: run each benchmark in bench/ that exists; each writes its part of the doc.

Loaded by path, so the benchmarks stay plain scripts (`python bench/sync_bench.py` works too).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("sync_bench", "local_startup", "groups_bench", "health_bench", "events_bench")


def main() -> int:
    """Run each benchmark's main() in turn; the exit code is the first non-zero one."""
    code = 0
    for name in BENCHMARKS:
        path = HERE / f"{name}.py"
        if not path.exists():
            continue
        spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while it loads
        spec.loader.exec_module(module)
        print(f"== bench/{path.name}", file=sys.stderr, flush=True)
        result = module.main()
        code = code or int(result or 0)
    return code


if __name__ == "__main__":
    sys.exit(main())
