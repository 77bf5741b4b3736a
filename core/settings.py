"""Settings: the data directory, endpoint profiles and cache policy.

Settings come, strongest first, from the arguments given to `load_settings`, `TUNEDECK_*`
environment variables (nested with `__`, e.g. `TUNEDECK_CACHE__TTL_SECONDS`), and the
`config.toml` file in the data directory. `TUNEDECK_HOME` chooses the data directory.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from core.errors import BadInput, ConfigError
from core.redact import shown_url, url_secrets
from core.validation import describe_errors, line_of_key

DEMO_PROFILE = "demo"
DEFAULT_PROFILE = "default"
DEMO_MODEL = "tunedeck-demo"
DEMO_BASE_URL = "http://demo.tunedeck.invalid/v1"
OPENAI_BASE_URL = "https://api.openai.com/v1"
CONFIG_FILE = "config.toml"
DATABASE_FILE = "tunedeck.db"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ModelPrice(BaseModel):
    """A price override for one model, in USD per million tokens."""

    model_config = ConfigDict(extra="forbid")

    input: Decimal = Field(ge=0)
    """USD per million input (prompt) tokens."""
    output: Decimal = Field(ge=0)
    """USD per million output (completion) tokens."""
    cached_input: Decimal | None = Field(default=None, ge=0)
    """USD per million cached input tokens; the input price when absent."""


class Profile(BaseModel):
    """An OpenAI-compatible endpoint: OpenAI, vLLM, Ollama, llama.cpp server, ..."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str
    """Base URL of the API, ending in `/v1` for most servers."""
    api_key_env: str | None = None
    """NAME of the environment variable holding the key (never the key itself)."""
    default_model: str = "gpt-4o-mini"
    """Model used when a request names none."""
    timeout: float = Field(default=60.0, gt=0, le=3600)
    """Seconds to wait for a response before the SDK gives up (and may retry)."""
    max_retries: int = Field(default=2, ge=0, le=10)
    """Retries made by the openai SDK (exponential backoff, honours Retry-After)."""
    local: bool = False
    """A self-hosted endpoint: its calls cost nothing."""
    prices: dict[str, ModelPrice] = Field(default_factory=dict)
    """Price overrides keyed by model name or glob pattern (`ft:*`); they win over genai-prices."""
    demo: bool = Field(default=False, exclude=True)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.startswith(("sk-", "Bearer")) or not _ENV_NAME.match(value):
            raise ValueError(
                "must be the NAME of an environment variable (like OPENAI_API_KEY), not a key"
            )
        return value

    @property
    def endpoint(self) -> str:
        """`base_url` as it is logged, stored and shown: credentials in it masked
        (`core.redact.shown_url`). Only the SDK and the cache key read `base_url` itself."""
        return shown_url(self.base_url)

    def url_secrets(self) -> list[str]:
        """The credentials `base_url` holds, if any, for error messages to mask."""
        return url_secrets(self.base_url)

    def api_key(self, environ: Mapping[str, str] | None = None) -> str | None:
        """Read this profile's key from the environment.

        Raises:
            ConfigError: when `api_key_env` names a variable that is not set.
        """
        if self.api_key_env is None:
            return None
        key = (os.environ if environ is None else environ).get(self.api_key_env)
        if not key:
            raise ConfigError(
                f"environment variable {self.api_key_env} (api_key_env of this profile) is not set"
            )
        return key

    def price_override(self, model: str) -> ModelPrice | None:
        """The configured price for `model`: an exact name first, then the first glob."""
        if model in self.prices:
            return self.prices[model]
        for pattern, price in self.prices.items():
            if fnmatchcase(model, pattern):
                return price
        return None


class CacheSettings(BaseModel):
    """Response cache policy."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    """Use the response cache at all."""
    ttl_seconds: int | None = Field(default=30 * 24 * 3600, gt=0)
    """How long an entry stays valid; no limit when empty."""
    nondeterministic: bool = False
    """Also cache requests that are not deterministic (temperature > 0 and no seed)."""


class _TomlFileSource(PydanticBaseSettingsSource):
    """Reads `config.toml` from the data directory given to the settings."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


class Settings(BaseSettings):
    """Everything tunedeck is configured with; build it with `load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="TUNEDECK_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    home: Path
    """Data directory: holds `tunedeck.db` and `config.toml`."""
    default_profile: str | None = None
    """Profile used when none is named."""
    profiles: dict[str, Profile] = Field(default_factory=dict)
    """Endpoint profiles from `[profiles.NAME]`."""
    cache: CacheSettings = Field(default_factory=CacheSettings)
    """Response cache policy from `[cache]`."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    """Level of the debugging log written to `tunedeck.log` in the data directory."""
    timezone: str | None = None
    """IANA time zone (`Europe/Paris`) of budget periods and monitor days; local when empty."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value:
            # Imported only when a zone is set: it reaches storage (sqlite-utils), ~0.3 s
            # that the console's start must not pay (settings validate defaults too).
            from core.budgets.periods import zone_named  # validated where budgets use it

            zone_named(value)
        return value or None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        home = init_settings().get("home")
        data = _read_toml(Path(home) / CONFIG_FILE) if home else {}
        return init_settings, env_settings, _TomlFileSource(settings_cls, data)

    @property
    def database_path(self) -> Path:
        """The SQLite file every command and pane shares."""
        return self.home / DATABASE_FILE

    @property
    def config_path(self) -> Path:
        """The user's `config.toml`."""
        return self.home / CONFIG_FILE

    def all_profiles(self, environ: Mapping[str, str] | None = None) -> dict[str, Profile]:
        """Configured profiles plus the built-in `demo` and the `OPENAI_*` default."""
        env = os.environ if environ is None else environ
        found = {DEMO_PROFILE: demo_profile()}
        default = _profile_from_openai_env(env)
        if default is not None and DEFAULT_PROFILE not in self.profiles:
            found[DEFAULT_PROFILE] = default
        found.update(self.profiles)
        return found

    def known_secrets(self, environ: Mapping[str, str] | None = None) -> list[str]:
        """Every profile's key set in the environment and the credentials in its URL: what
        the log, stored texts and messages must never show (`core.redact.redact` masks them)."""
        env = os.environ if environ is None else environ
        profiles = self.all_profiles(env).values()
        names = {profile.api_key_env for profile in profiles if profile.api_key_env}
        keys = [env[name] for name in sorted(names) if env.get(name)]
        return [*keys, *(secret for profile in profiles for secret in profile.url_secrets())]

    def resolve_profile(
        self, name: str | None = None, environ: Mapping[str, str] | None = None
    ) -> tuple[str, Profile]:
        """The profile named, or the default one: configured, then `OPENAI_*`, then demo.

        Raises:
            BadInput: when no profile has that name.
        """
        profiles = self.all_profiles(environ)
        chosen = name or self.default_profile
        if chosen is None:
            chosen = DEFAULT_PROFILE if DEFAULT_PROFILE in profiles else DEMO_PROFILE
        if chosen not in profiles:
            known = ", ".join(sorted(profiles))
            raise BadInput(f"unknown profile '{chosen}' (known: {known})")
        return chosen, profiles[chosen]


def demo_profile() -> Profile:
    """The built-in offline endpoint: no key, no network, costs nothing."""
    return Profile(
        base_url=DEMO_BASE_URL, default_model=DEMO_MODEL, local=True, max_retries=0, demo=True
    )


def _profile_from_openai_env(env: Mapping[str, str]) -> Profile | None:
    key_set = bool(env.get("OPENAI_API_KEY"))
    base_url = env.get("OPENAI_BASE_URL")
    if not key_set and not base_url:
        return None
    return Profile(
        base_url=base_url or OPENAI_BASE_URL,
        api_key_env="OPENAI_API_KEY" if key_set else None,
    )


def default_home(environ: Mapping[str, str] | None = None) -> Path:
    """`TUNEDECK_HOME` when set, else the platform's user data directory."""
    env = os.environ if environ is None else environ
    if env.get("TUNEDECK_HOME"):
        return Path(env["TUNEDECK_HOME"]).expanduser()
    return Path(platformdirs.user_data_dir("tunedeck", appauthor=False))


def load_settings(home: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from arguments, environment and `config.toml`.

    Raises:
        ConfigError: one line naming the file (and line) or variable, the field and the rule.
    """
    home = home or default_home()
    try:
        settings = Settings(home=home, **overrides)
    except ValidationError as error:
        raise ConfigError(_explain(error, home / CONFIG_FILE)) from None
    reserved = DEMO_PROFILE in settings.profiles
    if reserved:
        raise ConfigError(f"{settings.config_path}: profiles.demo: the name 'demo' is built in")
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot be read: {error}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None


def _explain(error: ValidationError, config_path: Path) -> str:
    first = error.errors()[0]
    loc = tuple(str(part) for part in first["loc"])
    env_name = "TUNEDECK_" + "__".join(loc).upper()
    if env_name in os.environ:
        where = f"environment variable {env_name}"
    else:
        line = line_of_key(config_path, loc)
        where = f"{config_path}:{line}" if line else str(config_path)
    return f"{where}: {describe_errors(error)}"
