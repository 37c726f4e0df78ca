"""Fixtures of the Telegram tests: a per-test copy of a database holding the bundled sample page (six
articles, ingested an hour before the tests), the fake Bot API, and the running bot (``tg``)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from fakebot import FakeBotAPI

from .harness import FakeClock, Harness, make_settings, open_service, running_bot


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the bundled sample page and its index, built once; tests copy its folder.

    The sample is ingested "an hour ago", so that articles ingested by a test are clearly newer than it
    and subscriptions made by a test clearly begin after it."""
    folder = tmp_path_factory.mktemp("template") / "data"
    settings = load_settings(env={}, db=str(folder / "newsbot.db"))
    an_hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    open_service(settings, FakeClock(an_hour_ago)).close()
    return folder


@pytest.fixture
def seeded_db(db_path: Path, template_db: Path) -> Path:
    shutil.copytree(template_db, db_path.parent)
    return db_path


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    # Sets PTB_TIMEDELTA=1 (a 429 would otherwise raise a deprecation warning) and quiets httpx.
    with FakeBotAPI.running() as server:
        yield server


@pytest.fixture
def settings(seeded_db: Path, fake: FakeBotAPI) -> Settings:
    return make_settings(seeded_db, fake)


@pytest.fixture
async def tg(fake: FakeBotAPI, settings: Settings) -> AsyncIterator[Harness]:
    async with running_bot(fake, settings) as harness:
        yield harness
