"""Settings.from_env: the only reader of the environment."""

from __future__ import annotations

import pytest

from chalicelib.settings import Settings, SettingsError


def test_defaults_from_an_empty_environment():
    settings = Settings.from_env({})
    assert (settings.stage, settings.homepage_slots, settings.rotation_minutes, settings.log_level) == ("local", 8, 15, "INFO")


def test_values_are_read_and_checked():
    settings = Settings.from_env({"STAGE": "prod", "HOMEPAGE_SLOTS": "6", "LOG_LEVEL": " debug "})
    assert (settings.stage, settings.homepage_slots, settings.log_level) == ("prod", 6, "DEBUG")
    with pytest.raises(SettingsError, match="LOG_LEVEL='verbose': use DEBUG, INFO, WARNING or ERROR"):
        Settings.from_env({"LOG_LEVEL": "verbose"})
    with pytest.raises(SettingsError, match="HOMEPAGE_SLOTS='0': expected a whole number >= 1"):
        Settings.from_env({"HOMEPAGE_SLOTS": "0"})


def test_metrics_flush_interval_is_whole_seconds_from_0_to_60():
    assert Settings.from_env({}).metrics_flush_s == 10
    assert Settings.from_env({"METRICS_FLUSH_S": "0"}).metrics_flush_s == 0  # every request
    assert Settings.from_env({"METRICS_FLUSH_S": "60"}).metrics_flush_s == 60
    for raw in ("61", "-1", "2.5", "ten"):
        with pytest.raises(SettingsError, match=f"METRICS_FLUSH_S='{raw}': expected a whole number from 0 to 60"):
            Settings.from_env({"METRICS_FLUSH_S": raw})
