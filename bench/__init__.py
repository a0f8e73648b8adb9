"""Benchmarks (issue 6). Run them all with ``python -m bench``; see docs/benchmarks.md.

A benchmark prints figures and exits 0: none of this is a (timed) test.
"""
