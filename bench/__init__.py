"""Benchmarks of the box office under a sell-out: ``python -m bench`` (or ``nox -s bench``).

See bench/README.md for the scenarios and options, bench/FINDINGS.md for what profiling found.
"""
