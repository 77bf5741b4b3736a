"""Widgets of the Cache pane: the paged table, its window of rows and the entry detail."""
