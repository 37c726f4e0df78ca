"""Settings from the environment and a TOML file; bad values stop start-up with one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


def test_defaults() -> None:
    s = load_settings(env={})
    assert (s.db, s.timezone, s.token, s.admins) == (
        Path("data/newsbot.db"),
        "Asia/Shanghai",
        None,
        frozenset(),
    )
    assert s.index_dir == Path("data/newsbot.db.index")


def test_environment_over_file_over_defaults(tmp_path: Path) -> None:
    toml = tmp_path / "newsbot.toml"
    toml.write_text(
        'timezone = "Europe/Berlin"\nrate_limit_per_minute = 5\nadmins = [1, 2]\n', encoding="utf-8"
    )
    env = {"NEWSBOT_CONFIG": str(toml), "NEWSBOT_RATE_LIMIT_PER_MINUTE": "7", "TELEGRAM_BOT_TOKEN": "123:abc"}
    s = load_settings(env=env)
    assert (s.timezone, s.rate_limit_per_minute, s.admins, s.token) == (
        "Europe/Berlin",
        7,
        frozenset({1, 2}),
        "123:abc",
    )


def test_token_is_not_in_repr() -> None:
    s = load_settings(env={"TELEGRAM_BOT_TOKEN": "123456:SECRETSECRET"})
    assert "SECRETSECRET" not in repr(s)


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"NEWSBOT_ADMINS": "12,abc"}, "NEWSBOT_ADMINS"),
        ({"NEWSBOT_TIMEZONE": "Mars/Olympus"}, "NEWSBOT_TIMEZONE"),
        ({"NEWSBOT_RATE_LIMIT_PER_MINUTE": "0"}, "NEWSBOT_RATE_LIMIT_PER_MINUTE"),
        ({"NEWSBOT_WEBHOOK_PORT": "http"}, "NEWSBOT_WEBHOOK_PORT"),
        ({"TELEGRAM_BOT_TOKEN": "not a token"}, "TELEGRAM_BOT_TOKEN"),
        ({"NEWSBOT_BOT_API_URL": "ftp://x"}, "NEWSBOT_BOT_API_URL"),
        ({"NEWSBOT_DIGEST_DEFAULT_TIME": "25:00"}, "NEWSBOT_DIGEST_DEFAULT_TIME"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        load_settings(env=env)


def test_token_in_a_file_is_refused(tmp_path: Path) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text('token = "1:x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
        load_settings(env={}, config_file=toml)


def test_bad_toml_is_reported(tmp_path: Path) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text("timezone = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(env={}, config_file=toml)
