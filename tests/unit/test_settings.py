"""Settings from the environment: every limit settable, bad values refused with a clear message."""

from __future__ import annotations

import pytest

from server.settings import Settings, SettingsError, parse_rate


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.max_query_cost == 2_000_000
    assert settings.max_query_depth == 10
    assert settings.max_aliases == 30
    assert settings.max_tokens == 5000
    assert settings.max_body_bytes == 256 * 1024
    assert settings.max_page_size == 100
    assert settings.default_page_size == 50
    assert settings.rate_limit is None
    # Requests without a key the service knows are limited per address even so.
    assert (settings.anonymous_rate_limit, settings.anonymous_rate_limit_burst) == (1.0, 20)
    assert settings.body_timeout_seconds == 10.0
    assert settings.environment == "development"
    assert not settings.production
    assert settings.log_level == "INFO"
    assert settings.database_timeout_ms == 5_000
    assert settings.graceful_timeout_seconds == 10.0


def test_every_limit_is_read() -> None:
    settings = Settings.from_env(
        {
            "MAX_QUERY_COST": "1000",
            "MAX_QUERY_DEPTH": "7",
            "MAX_ALIASES": "5",
            "MAX_TOKENS": "2_000",
            "MAX_BODY_BYTES": "65536",
            "MAX_PAGE_SIZE": "40",
            "DEFAULT_PAGE_SIZE": "20",
            "RATE_LIMIT": "600/m",
            "RATE_LIMIT_BURST": "25",
            "ANONYMOUS_RATE_LIMIT": "30/m",
            "ANONYMOUS_RATE_LIMIT_BURST": "5",
            "BODY_TIMEOUT_SECONDS": "2.5",
            "INVENTORY_ENV": "Production",
            "LOG_LEVEL": "warning",
            "PORT": "9000",
            "DATABASE_TIMEOUT_MS": "2500",
            "GRACEFUL_TIMEOUT_SECONDS": "1.5",
        }
    )
    assert (settings.max_query_cost, settings.max_query_depth, settings.max_aliases) == (
        1000,
        7,
        5,
    )
    assert (settings.max_tokens, settings.max_body_bytes) == (2000, 65536)
    assert (settings.max_page_size, settings.default_page_size) == (40, 20)
    assert settings.rate_limit == 10.0
    assert settings.burst == 25
    assert (settings.anonymous_rate_limit, settings.anonymous_rate_limit_burst) == (0.5, 5)
    assert settings.body_timeout_seconds == 2.5
    assert settings.production
    assert settings.log_level == "WARNING"
    assert settings.port == 9000
    assert settings.database_timeout_ms == 2500
    assert settings.graceful_timeout_seconds == 1.5


def test_burst_defaults_to_twice_the_rate() -> None:
    assert Settings.from_env({"RATE_LIMIT": "50/s"}).burst == 100
    assert Settings.from_env({"RATE_LIMIT": "60/m"}).burst == 2
    assert Settings.from_env({"RATE_LIMIT": "1/h"}).burst == 1  # never below one request


def test_the_anonymous_limit_can_be_turned_off() -> None:
    """Behind a proxy every client has the proxy's address: the proxy should limit instead."""
    assert Settings.from_env({"ANONYMOUS_RATE_LIMIT": "OFF"}).anonymous_rate_limit is None


def test_a_small_page_cap_lowers_the_default_page_size() -> None:
    assert Settings.from_env({"MAX_PAGE_SIZE": "10"}).default_page_size == 10


@pytest.mark.parametrize(
    ("text", "per_second"), [("50/s", 50.0), ("600/m", 10.0), ("36/h", 0.01), (" 2.5 / s ", 2.5)]
)
def test_parse_rate(text: str, per_second: float) -> None:
    assert parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize(
    ("environ", "mentions"),
    [
        ({"MAX_QUERY_COST": "lots"}, "MAX_QUERY_COST"),
        ({"MAX_QUERY_COST": "0"}, "MAX_QUERY_COST"),
        ({"MAX_QUERY_DEPTH": "-1"}, "MAX_QUERY_DEPTH"),
        ({"MAX_ALIASES": "3.5"}, "MAX_ALIASES"),
        ({"MAX_TOKENS": "1"}, "MAX_TOKENS"),
        ({"MAX_BODY_BYTES": "10"}, "MAX_BODY_BYTES"),
        ({"MAX_PAGE_SIZE": "0"}, "MAX_PAGE_SIZE"),
        ({"MAX_PAGE_SIZE": "10", "DEFAULT_PAGE_SIZE": "20"}, "DEFAULT_PAGE_SIZE"),
        ({"PORT": "70000"}, "PORT"),
        ({"RATE_LIMIT": "50"}, "RATE_LIMIT"),
        ({"RATE_LIMIT": "50/d"}, "RATE_LIMIT"),
        ({"RATE_LIMIT": "0/s"}, "RATE_LIMIT"),
        ({"RATE_LIMIT": "fast"}, "RATE_LIMIT"),
        ({"RATE_LIMIT": "50/s", "RATE_LIMIT_BURST": "0"}, "RATE_LIMIT_BURST"),
        ({"RATE_LIMIT_BURST": "10"}, "RATE_LIMIT_BURST"),
        ({"ANONYMOUS_RATE_LIMIT": "5"}, "ANONYMOUS_RATE_LIMIT"),
        ({"ANONYMOUS_RATE_LIMIT": "none"}, "ANONYMOUS_RATE_LIMIT"),
        ({"ANONYMOUS_RATE_LIMIT_BURST": "0"}, "ANONYMOUS_RATE_LIMIT_BURST"),
        (
            {"ANONYMOUS_RATE_LIMIT": "off", "ANONYMOUS_RATE_LIMIT_BURST": "5"},
            "ANONYMOUS_RATE_LIMIT_BURST",
        ),
        ({"BODY_TIMEOUT_SECONDS": "soon"}, "BODY_TIMEOUT_SECONDS"),
        ({"BODY_TIMEOUT_SECONDS": "0"}, "BODY_TIMEOUT_SECONDS"),
        ({"BODY_TIMEOUT_SECONDS": "nan"}, "BODY_TIMEOUT_SECONDS"),
        ({"BODY_TIMEOUT_SECONDS": "7200"}, "BODY_TIMEOUT_SECONDS"),
        ({"INVENTORY_ENV": "prod"}, "INVENTORY_ENV"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
        ({"DATABASE_TIMEOUT_MS": "0"}, "DATABASE_TIMEOUT_MS"),
        ({"DATABASE_TIMEOUT_MS": "10s"}, "DATABASE_TIMEOUT_MS"),
        ({"GRACEFUL_TIMEOUT_SECONDS": "soon"}, "GRACEFUL_TIMEOUT_SECONDS"),
        ({"GRACEFUL_TIMEOUT_SECONDS": "0"}, "GRACEFUL_TIMEOUT_SECONDS"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(environ: dict[str, str], mentions: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(environ)
    assert mentions in str(caught.value)
    if not (mentions == "RATE_LIMIT_BURST" and "RATE_LIMIT" not in environ):
        # The value given is in the message, so the operator sees what to fix.
        assert environ[mentions].strip() in str(caught.value)


def test_blank_values_mean_the_default() -> None:
    assert Settings.from_env({"MAX_QUERY_COST": "", "RATE_LIMIT": " "}) == Settings()


def test_the_command_line_refuses_bad_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from server.cli import main

    monkeypatch.setenv("RATE_LIMIT", "lots")
    assert main(["export-schema"]) == 2
    assert "RATE_LIMIT" in capsys.readouterr().err


def test_what_the_exports_say_of_the_organisation() -> None:
    """Issue 16: the record's controller block beyond the establishments, and whether the
    notice names its recipients (Art. 13(1)(e): recipients or categories of recipients)."""
    settings = Settings.from_env(
        {
            "CONTROLLER_NAME": "Lumora Works, Inc.",
            "CONTROLLER_CONTACT": "privacy@lumora.example",
            "DPO_CONTACT": "A. Smith, dpo@lumora.example",
            "REPRESENTATIVE_CONTACT": "Lumora Works Ireland DAC",
            "NOTICE_RECIPIENTS": "Named",
        }
    )
    assert settings.controller_name == "Lumora Works, Inc."
    assert settings.controller_contact == "privacy@lumora.example"
    assert settings.dpo_contact == "A. Smith, dpo@lumora.example"
    assert settings.representative_contact == "Lumora Works Ireland DAC"
    assert settings.notice_names_recipients
    assert not Settings.from_env({"NOTICE_RECIPIENTS": "categories"}).notice_names_recipients
    with pytest.raises(SettingsError, match="NOTICE_RECIPIENTS must be one of categories, named"):
        Settings.from_env({"NOTICE_RECIPIENTS": "some"})
