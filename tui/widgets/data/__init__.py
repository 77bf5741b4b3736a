"""Widgets of the Data pane: path completion, the check's summary and histogram, the problems,
an example in full, the dataset versions and their lineage, and the clean/split dialogs."""
