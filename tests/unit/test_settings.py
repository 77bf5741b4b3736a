"""Settings: profiles from config.toml and the environment, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import BadInput, ConfigError
from core.settings import load_settings
from tests.conftest import write_config

GOOD = """
default_profile = "vllm"

[profiles.vllm]
base_url = "http://127.0.0.1:8000/v1/"
default_model = "llama-3.1-8b"
local = true

[profiles.openai]
base_url = "https://api.openai.com/v1"
api_key_env = "MY_OPENAI_KEY"
max_retries = 5
timeout = 30

[profiles.openai.prices."ft:*"]
input = 0.5
output = 2

[cache]
ttl_seconds = 3600
"""


def test_profiles_come_from_the_config_file(home: Path) -> None:
    write_config(home, GOOD)
    settings = load_settings()
    name, profile = settings.resolve_profile()
    assert (name, profile.base_url, profile.local) == ("vllm", "http://127.0.0.1:8000/v1", True)
    _, openai = settings.resolve_profile("openai")
    assert (openai.max_retries, openai.timeout, openai.api_key_env) == (5, 30, "MY_OPENAI_KEY")
    override = openai.price_override("ft:gpt-4o-mini:acme::1")
    assert override is not None and override.output == 2
    assert settings.cache.ttl_seconds == 3600
    assert settings.database_path == home / "tunedeck.db"


def test_environment_variables_win_over_the_file(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(home, GOOD)
    monkeypatch.setenv("TUNEDECK_CACHE__TTL_SECONDS", "60")
    monkeypatch.setenv("TUNEDECK_DEFAULT_PROFILE", "openai")
    settings = load_settings()
    assert settings.cache.ttl_seconds == 60
    assert settings.resolve_profile()[0] == "openai"


def test_the_demo_profile_is_the_default_without_keys(home: Path) -> None:
    name, profile = load_settings().resolve_profile()
    assert name == "demo" and profile.demo and profile.local and profile.api_key_env is None


def test_openai_variables_form_the_default_profile(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-abc")
    name, profile = load_settings().resolve_profile()
    assert (name, profile.base_url, profile.api_key_env) == (
        "default",
        "https://api.openai.com/v1",
        "OPENAI_API_KEY",
    )
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:11434/v1")
    name, profile = load_settings().resolve_profile()
    assert (name, profile.base_url, profile.api_key_env) == (
        "default",
        "http://localhost:11434/v1",
        None,
    )


def test_an_unknown_profile_names_the_known_ones(home: Path) -> None:
    write_config(home, GOOD)
    with pytest.raises(BadInput, match=r"unknown profile 'nope' \(known: demo, openai, vllm\)"):
        load_settings().resolve_profile("nope")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[profiles.a]\nbase_url = 'http://x/v1'\ntimeout = -1\n",
            r"config.toml:3: profiles.a.timeout: must be greater than 0",
        ),
        (
            "[profiles.a]\nbase_url = 'http://x/v1'\nmax_retries = 99\n",
            r"config.toml:3: profiles.a.max_retries: must be at most 10",
        ),
        (
            "[profiles.a]\nbase_url = 'ftp://x'\n",
            r"config.toml:2: profiles.a.base_url: must be an http:// or https:// URL",
        ),
        (
            "[profiles.a]\nbase_url = 'http://x/v1'\nbase_urll = 1\n",
            r"config.toml:3: profiles.a.base_urll: is not a known setting",
        ),
        ("[profiles.a]\ndefault_model = 'm'\n", r"config.toml:1: profiles.a.base_url: is required"),
        (
            "[cache]\nttl_seconds = 'soon'\n",
            r"config.toml:2: cache.ttl_seconds: must be a whole number",
        ),
        ("[profiles.a\nbase_url = 1\n", r"config.toml: invalid TOML: .*line 1"),
        (
            "[profiles.demo]\nbase_url = 'http://x/v1'\n",
            r"profiles.demo: the name 'demo' is built in",
        ),
    ],
)
def test_a_bad_config_file_is_one_line_naming_file_line_field_and_rule(
    home: Path, text: str, expected: str
) -> None:
    write_config(home, text)
    with pytest.raises(ConfigError, match=expected) as error:
        load_settings()
    assert "\n" not in str(error.value)
    assert error.value.exit_code == 2


def test_a_key_pasted_into_api_key_env_is_refused_without_echoing_it(home: Path) -> None:
    write_config(
        home, "[profiles.a]\nbase_url = 'http://x/v1'\napi_key_env = 'sk-live-123456789'\n"
    )
    with pytest.raises(ConfigError, match="NAME of an environment variable") as error:
        load_settings()
    assert "sk-live-123456789" not in str(error.value)


def test_a_bad_environment_value_names_the_variable(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUNEDECK_CACHE__TTL_SECONDS", "-5")
    with pytest.raises(ConfigError, match="environment variable TUNEDECK_CACHE__TTL_SECONDS"):
        load_settings()


def test_tunedeck_home_chooses_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUNEDECK_HOME", str(tmp_path / "elsewhere"))
    assert load_settings().home == tmp_path / "elsewhere"
