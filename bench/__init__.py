"""Benchmarks of the hub over real HTTP, each beside the baselines that bound it.

Run one as a module, e.g. ``python -m bench.reports_page [--quick]``; results go
to ``bench/RESULTS.md``.
"""
