"""Widgets of the Regressions pane: suites, runs, the pass-rate chart, diffs and new runs."""
