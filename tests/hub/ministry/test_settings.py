"""Ministry settings from the environment: a bad value names its variable."""

from __future__ import annotations

import pytest

from hub.errors import ConfigError
from hub.ministry.settings import MinistrySettings


def test_defaults_and_overrides() -> None:
    assert MinistrySettings.from_env({}) == MinistrySettings(suppress_below=5)
    read = MinistrySettings.from_env(
        {"SP4N_MINISTRY_SUPPRESS_BELOW": "10", "SP4N_MINISTRY_AUTO_CLOSE_INTERVAL": "30.5"}
    )
    assert (read.suppress_below, read.auto_close_interval) == (10, 30.5)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SP4N_MINISTRY_SUPPRESS_BELOW", "five", "must be a number"),
        ("SP4N_MINISTRY_SUPPRESS_BELOW", "0", "must be 1..1000"),
        ("SP4N_MINISTRY_AUTO_CLOSE_INTERVAL", "0", "must be 1..86400"),
        ("SP4N_MINISTRY_AUTO_CLOSE_BATCH", "100000", "must be 1..10000"),
    ],
)
def test_a_bad_value_names_its_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        MinistrySettings.from_env({name: value})
    assert name in raised.value.message
