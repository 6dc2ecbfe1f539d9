"""Benchmarks, run on demand (bench/README.md). Nothing here is imported by the app."""
