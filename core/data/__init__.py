"""Curating fine-tuning data: check a JSONL training file, clean it, split it, and keep the
lineage of every version.

- `check_file(path, CheckOptions(...), progress=..., cancel=...)` streams the file once and
  returns a `CheckReport`: every problem by line and kind (format, limits, quality, safety),
  token statistics, and the estimated training cost.
- `clean_file` writes the file without invalid lines and duplicates, atomically.
- `split_file` writes a deterministic train / held-out split, checked for leakage, and
  optionally the held-out part as an evaluation suite.
- `record_check` / `record_written` keep each file as a dataset version in SQLite.
"""

from core.data.check import (
    DEFAULT_MODEL,
    CheckCancelled,
    CheckOptions,
    Progress,
    check_file,
)
from core.data.clean import ALWAYS_DROPPED, CleanResult, clean_file, drop_kinds
from core.data.formats import FORMATS
from core.data.problems import CATEGORIES, KINDS, Problem, ProblemList
from core.data.report import CheckReport, Summary
from core.data.split import Leak, SplitResult, split_file

__all__ = [
    "ALWAYS_DROPPED",
    "CATEGORIES",
    "DEFAULT_MODEL",
    "FORMATS",
    "KINDS",
    "CheckCancelled",
    "CheckOptions",
    "CheckReport",
    "CleanResult",
    "Leak",
    "Problem",
    "ProblemList",
    "Progress",
    "SplitResult",
    "Summary",
    "check_file",
    "clean_file",
    "drop_kinds",
    "split_file",
]
