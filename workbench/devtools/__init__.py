"""Tools for the project's own tests and benchmarks (not needed by learners)."""
