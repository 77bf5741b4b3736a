"""A run's scripts held as they were when it started.

The console is a long-lived process: a suite loaded again after its scorer file was edited
loads the new code (`core.evals.custom`, `core.evals.javascript`). A run in progress keeps
scoring with what it started with, so that one run is never scored by two versions of a
scorer; its task's context holds them (`contextvars`), so other runs are not affected.
"""

from __future__ import annotations

from core.evals import custom, javascript
from core.evals.suite import Suite
from core.evals.transforms import PYTHON


def pin_scripts(suite: Suite) -> None:
    """Hold the `python` and `javascript` scorers and the transforms `suite` names, as loaded
    now, for the rest of the current context (call it in the run's task, before its cases)."""
    python: set[str] = set()
    scripts: set[str] = set()
    for case in suite.cases:
        for item in case.assertions:
            if item.base_type == "python" and isinstance(item.value, str):
                python.add(item.value)
            elif item.base_type == "javascript" and isinstance(item.value, str):
                scripts.add(item.value)
            for transform in (item.test_transform, item.transform):
                if transform is None:
                    continue
                if transform.startswith(PYTHON):
                    python.add(transform.removeprefix(PYTHON))
                else:
                    scripts.add(transform)
    custom.pin(python)
    javascript.pin(scripts)
