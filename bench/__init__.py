"""Benchmarks: `make bench` (not part of `make test`, except a smoke run)."""
