"""Speed measurements against a real local broker: `python3 -m bench.run` (or `make bench`).

Every figure is measured next to its baseline in the same run, on the same broker; results go
to bench/results.json, and `python3 -m bench.render` turns them into docs/benchmarks.md.
"""
