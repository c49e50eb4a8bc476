"""Benchmark suite: `make bench` (full) or `make bench QUICK=1`; `python -m bench --help` for the options.

Not part of the tests: figures are printed, never asserted, and each one is a ratio against a baseline
measured in the same run on the same machine. Results and their analysis: BENCHMARKS.md.
"""
