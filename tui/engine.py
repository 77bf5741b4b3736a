"""The engine a command or the console works with: settings, the store and the client.

The store and the client are made on first use, once, whichever thread asks first: the
console's workers ask for them at the same time when it starts on a new data directory.
Opening the store closes the calls a dead process left `pending` (`CallLog.cancel_orphaned`):
a command or the console started after a kill shows them as interrupted, not in flight.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
from typing import TYPE_CHECKING

from core.settings import Settings, load_settings

if TYPE_CHECKING:
    from core.client import ChatClient
    from storage.store import Store

_log = logging.getLogger("tunedeck.engine")


class Engine:
    """Lazily opened parts of tunedeck, shared by the commands and panes of one process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Store | None = None
        self._client: ChatClient | None = None
        self._lock = threading.Lock()

    @property
    def store(self) -> Store:
        """The database, opened (and migrated) on first use."""
        if self._store is None:
            with self._lock:
                if self._store is None:
                    from core.clock import iso, utc_now
                    from storage.store import Store

                    store = Store.open(self.settings.database_path)
                    try:
                        store.calls.cancel_orphaned(iso(utc_now()))
                    except sqlite3.Error as error:  # busy past the timeout: next time, then
                        _log.warning("pending calls of dead processes not closed: %s", error)
                    self._store = store
        return self._store

    @property
    def client(self) -> ChatClient:
        """The chat client on this engine's store."""
        if self._client is None:
            store = self.store
            with self._lock:
                if self._client is None:
                    from core.client import ChatClient

                    self._client = ChatClient(self.settings, store)
        return self._client

    def close(self) -> None:
        """Close the client's connections and the database."""
        if self._client is not None:
            self._client.close()
        if self._store is not None:
            self._store.close()


@functools.cache
def engine() -> Engine:
    """The process's engine; settings errors surface here as `ConfigError`."""
    from core.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.home, settings.log_level, settings.known_secrets())
    return Engine(settings)
