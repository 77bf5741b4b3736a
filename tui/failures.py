"""Failed workers as notifications, never tracebacks on screen.

`Worker.StateChanged` does not bubble: the app, each pane and each widget that runs workers
hands its own to `notify_failure`.
"""

from __future__ import annotations

from textual.dom import DOMNode
from textual.worker import Worker, WorkerState


def notify_failure(node: DOMNode, event: Worker.StateChanged) -> None:
    """Show a worker's error as a notification (plain text: the message may hold anything)."""
    error = event.worker.error
    if event.state is WorkerState.ERROR and error is not None:
        node.notify(f"{type(error).__name__}: {error}", severity="error", markup=False)
