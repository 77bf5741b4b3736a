"""Credentials in an endpoint's URL are masked wherever the URL is stored or shown."""

from __future__ import annotations

import pytest

from core.redact import REDACTED, redact, shown_url, url_secrets
from core.settings import Profile


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
        ("https://bob:hunter22@proxy.example/v1", "https://bob:***@proxy.example/v1"),
        ("https://tok3n-as-user@proxy.example/v1", "https://***@proxy.example/v1"),
        (
            "https://x.example/openai?api-version=2024-02&api-key=abc123",
            "https://x.example/openai?api-version=2024-02&api-key=***",
        ),
        (
            "https://h/v1?token=t0k&monkey=1&keyword=2&sig=s&Ocp-Apim-Subscription-Key=k&flag",
            "https://h/v1?token=***&monkey=1&keyword=2&sig=***&Ocp-Apim-Subscription-Key=***&flag",
        ),
        ("https://h/v1?author=mark&access=public", "https://h/v1?author=mark&access=public"),
    ],
)
def test_shown_url_masks_a_password_and_secret_named_query_values(url: str, shown: str) -> None:
    assert shown_url(url) == shown


def test_url_secrets_are_what_redact_needs_to_mask_a_quoted_url() -> None:
    url = "https://bob:hun%40ter22@proxy.example/v1?access_token=t%2F0ken-99&x=1&sig=true"
    secrets = url_secrets(url)  # `true`: masked in the URL, too short to mask everywhere
    assert set(secrets) == {"hun%40ter22", "hun@ter22", "t%2F0ken-99", "t/0ken-99"}
    message = f"connection to {url} failed (password hun@ter22, token t/0ken-99)"
    masked = redact(message, secrets)
    assert all(secret not in masked for secret in secrets)
    assert masked.count(REDACTED) == 4 and "bob" in masked and "x=1" in masked
    assert url_secrets("http://127.0.0.1:8000/v1") == []
    assert url_secrets("https://tok3n-as-user@proxy.example/v1") == ["tok3n-as-user"]


def test_a_profile_shows_its_endpoint_masked_and_sends_to_the_url_itself() -> None:
    profile = Profile(base_url="https://bob:hunter22@proxy.example/v1/")
    assert profile.base_url == "https://bob:hunter22@proxy.example/v1"
    assert profile.endpoint == "https://bob:***@proxy.example/v1"
    assert profile.url_secrets() == ["hunter22"]
