"""Widgets of the Usage pane: totals, breakdown, chart, request log and a call's detail."""
