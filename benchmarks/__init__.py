"""Benchmarks of airflow-provider-wix against its targets (docs/architecture.md); run ``python -m benchmarks``.

Each benchmark measures the product and a baseline side by side in the same run and reports the ratio,
the target and PASS/MISS. Results also go to ``benchmarks/results/latest.json`` (git-ignored).
"""
