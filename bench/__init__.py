"""Benchmark scripts; run each from the repository root as a module, e.g.
`.venv/bin/python -m bench.bench_pages --runs 5`. Results are in docs/BENCHMARKS.md."""
