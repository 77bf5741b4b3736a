"""The engine a command works with: settings, the store and the client, made on demand."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field

from core.client import ChatClient
from core.logs import configure_logging
from core.settings import Settings, load_settings
from storage.store import Store


@dataclass
class Engine:
    """Lazily opened parts of tunedeck, shared by the commands of one process."""

    settings: Settings
    _store: Store | None = field(default=None, init=False)
    _client: ChatClient | None = field(default=None, init=False)

    @property
    def store(self) -> Store:
        """The database, opened (and migrated) on first use."""
        if self._store is None:
            self._store = Store.open(self.settings.database_path)
        return self._store

    @property
    def client(self) -> ChatClient:
        """The chat client on this engine's store."""
        if self._client is None:
            self._client = ChatClient(self.settings, self.store)
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
    settings = load_settings()
    configure_logging(settings.home, settings.log_level, _known_secrets(settings))
    return Engine(settings)


def _known_secrets(settings: Settings) -> list[str]:
    names = {p.api_key_env for p in settings.all_profiles().values() if p.api_key_env}
    return [os.environ[name] for name in names if os.environ.get(name)]
