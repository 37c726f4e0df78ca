"""Benchmarks: speed and memory figures reported as ratios against a reference run in the same process."""
