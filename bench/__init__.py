"""Benchmarks: ``make bench`` (results in ``bench/results/``, not checked in)."""
