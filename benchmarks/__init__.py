"""Benchmarks on real material: they download or take long, and are not part of the test run."""
