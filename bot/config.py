"""Settings: built once at the entry point from the environment and an optional TOML file, then passed down.

Precedence: environment variables over the TOML file over defaults. A bad value stops start-up with one
line naming the variable (``ConfigError``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from corpus import DEFAULT_TZ

__all__ = ["ConfigError", "Settings", "load_settings", "parse_hhmm"]

_HHMM = re.compile(r"(\d{1,2})[:：]?(\d{2})", re.ASCII)


def parse_hhmm(text: str) -> dt.time | None:
    """A time of day as people and buttons write it (08:00, 8:00, 8：00, 0800); None when it is not one."""
    m = _HHMM.fullmatch(text.strip())
    if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        return None
    return dt.time(int(m.group(1)), int(m.group(2)))


class ConfigError(Exception):
    """A setting is missing or has a value we cannot use; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Field ``x`` is read from ``NEWSBOT_X`` (the token from ``TELEGRAM_BOT_TOKEN``)."""

    db: Path = Path("data/newsbot.db")
    token: str | None = field(default=None, repr=False)
    admins: frozenset[int] = frozenset()
    timezone: str = DEFAULT_TZ.key
    bot_api_url: str | None = None  # e.g. http://127.0.0.1:8081/bot for a self-hosted Bot API server
    bot_file_url: str | None = None
    seed_sample: bool = True  # ingest the bundled sample page when the database is empty
    # retrieval
    userdict: Path | None = None  # jieba user dictionary; default: the one shipped in retrieval/data
    aliases: Path | None = None  # abbreviations to add (短 长) or veto (-短 长) besides the mined ones
    bm25_variant: str = "okapi"  # okapi, l or plus (rank_bm25's BM25Okapi, BM25L, BM25Plus)
    bm25_k1: float = 1.5
    bm25_b: float = 0.75
    title_copies: int = 2  # how many times a paragraph's article titles are added to its tokens
    # Ray cluster (README "Past one machine"): its address, or "local" to start one on this machine
    ray_address: str | None = None
    ray_shards: int = 4  # index shards (one actor each, at most one actor per CPU of the cluster)
    ray_deadline_ms: int = 1000  # a shard slower than this is left out of the answer (a partial search)
    # answers
    passages_per_page: int = 3
    window_chars: int = 160
    max_question_chars: int = 500
    # Telegram front end
    rate_limit_per_minute: int = 20
    max_upload_bytes: int = 20 * 1024 * 1024
    session_ttl_hours: int = 72
    follow_up_minutes: int = 10  # a private message this soon after an answer may follow up on it (0: off)
    query_log_days: int = 90
    telegram_rate_limit: bool = (
        True  # PTB's AIORateLimiter for Telegram's flood limits (off only in load tests)
    )
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: str | None = field(default=None, repr=False)
    # digests
    digest_default_time: str = "08:00"
    max_subscriptions_per_chat: int = 5
    broadcast_per_second: float = 25.0

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def index_dir(self) -> Path:
        return self.db.with_name(self.db.name + ".index")

    @property
    def uploads_dir(self) -> Path:
        return self.db.parent / "uploads"


_ENV_NAMES = {"token": "TELEGRAM_BOT_TOKEN"}


def _env_name(name: str) -> str:
    return _ENV_NAMES.get(name, "NEWSBOT_" + name.upper())


def load_settings(
    env: Mapping[str, str] | None = None, config_file: str | Path | None = None, **overrides: Any
) -> Settings:
    """Build settings from ``env`` (default: ``os.environ``), a TOML file and explicit overrides.

    The TOML file is ``config_file``, else ``$NEWSBOT_CONFIG`` if set; its keys are the field names.

    Raises:
        ConfigError: a value cannot be parsed or is out of range; the message names the variable.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    path = config_file or env.get("NEWSBOT_CONFIG")
    if path:
        values.update(_read_toml(Path(path)))
    for f in fields(Settings):
        raw = env.get(_env_name(f.name))
        if raw is not None and raw != "":
            values[f.name] = raw
    values.update({k: v for k, v in overrides.items() if v is not None})
    kwargs = {f.name: _convert(f.name, values[f.name]) for f in fields(Settings) if f.name in values}
    unknown = set(values) - {f.name for f in fields(Settings)}
    if unknown:
        raise ConfigError(f"unknown setting(s) in {path}: {', '.join(sorted(unknown))}")
    settings = Settings(**kwargs)
    _validate(settings)
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"NEWSBOT_CONFIG: cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"NEWSBOT_CONFIG: {path} is not valid TOML: {exc}") from None
    if "token" in data:
        raise ConfigError(
            f"{path}: keep the bot token out of files; set TELEGRAM_BOT_TOKEN in the environment"
        )
    return data


_INTS = {
    "passages_per_page": (1, 10),
    "window_chars": (40, 2000),
    "max_question_chars": (10, 4000),
    "rate_limit_per_minute": (1, 10000),
    "max_upload_bytes": (1024, 2**31),
    "session_ttl_hours": (1, 24 * 365),
    "follow_up_minutes": (0, 24 * 60),
    "query_log_days": (0, 3650),
    "webhook_port": (1, 65535),
    "max_subscriptions_per_chat": (1, 100),
    "title_copies": (0, 5),
    "ray_shards": (1, 1024),
    "ray_deadline_ms": (10, 600_000),
}


def _convert(name: str, value: Any) -> Any:
    var = _env_name(name)
    try:
        if name in ("db", "userdict", "aliases"):
            return Path(value).expanduser()
        if name == "bm25_variant":
            if str(value) not in ("okapi", "l", "plus"):
                raise ConfigError(f"{var}={value!r} is not one of okapi, l, plus")
            return str(value)
        if name in ("bm25_k1", "bm25_b"):
            number = float(value)
            if not 0 <= number <= (1 if name == "bm25_b" else 10):
                raise ConfigError(f"{var}={value!r} is out of range")
            return number
        if name == "admins":
            if isinstance(value, list):
                return frozenset(int(v) for v in value)
            return frozenset(int(v) for v in str(value).replace(",", " ").split())
        if name in ("seed_sample", "telegram_rate_limit"):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError
            return text in ("1", "true", "yes", "on")
        if name in _INTS:
            number = int(value)
            low, high = _INTS[name]
            if not low <= number <= high:
                raise ConfigError(f"{var}={value!r} is out of range; use {low}..{high}")
            return number
        if name == "broadcast_per_second":
            rate = float(value)
            if not 0.1 <= rate <= 30:
                raise ConfigError(f"{var}={value!r} is out of range; Telegram allows at most 30 messages/s")
            return rate
        return str(value).strip()
    except (TypeError, ValueError):
        raise ConfigError(f"{var}={value!r} is not valid for {name}") from None


def _validate(s: Settings) -> None:
    try:
        ZoneInfo(s.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"NEWSBOT_TIMEZONE={s.timezone!r} is not a time zone name such as Asia/Shanghai"
        ) from None
    if parse_hhmm(s.digest_default_time) is None:
        raise ConfigError(f"NEWSBOT_DIGEST_DEFAULT_TIME={s.digest_default_time!r} is not HH:MM")
    if s.token is not None and (":" not in s.token or any(c.isspace() for c in s.token)):
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN does not look like a bot token (123456:ABC…); check the variable"
        )
    if s.userdict is not None and not s.userdict.is_file():
        raise ConfigError(f"NEWSBOT_USERDICT={str(s.userdict)!r} is not a file")
    if s.aliases is not None and not s.aliases.is_file():
        raise ConfigError(
            f"NEWSBOT_ALIASES={str(s.aliases)!r} is not a file; it holds `短 长` or `-短 长` lines"
        )
    for name in ("bot_api_url", "bot_file_url", "webhook_url"):
        url = getattr(s, name)
        if url is not None and not url.startswith(("http://", "https://")):
            raise ConfigError(f"{_env_name(name)}={url!r} must start with http:// or https://")
