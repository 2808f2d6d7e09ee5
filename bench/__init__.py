"""Benchmarks: each module measures one hot path beside its lower bound in the same run (see docs/SCALING.md)."""
