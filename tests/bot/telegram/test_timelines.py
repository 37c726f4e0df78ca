"""Timelines over Telegram (``bot/telegram/timelines.py``): /timeline 关键词 answers in one HTML message with
a button per quoted article, and says plainly when there is nothing to show.

The database holds the bundled sample page (undated: it counts on the day it came in) and the reports of
``tests/data/timeline-articles.jsonl`` (工会驿站, March 2024 to June 2025).
"""

from __future__ import annotations

import json
import re

from bot import messages as msg
from bot.config import Settings
from fakebot import FakeBotAPI
from tests.conftest import DATA, SAMPLE_HEADLINES

from .harness import (
    USER,
    Harness,
    assert_html_message,
    buttons_of,
    ingest_articles,
    running_bot,
    sample_ingested_at,
)

ARTICLES = [
    json.loads(line) for line in (DATA / "timeline-articles.jsonl").read_text(encoding="utf-8").splitlines()
]


async def test_timeline_tells_the_story_in_one_message_with_buttons_that_open_each_article(
    fake: FakeBotAPI, settings: Settings
) -> None:
    ingest_articles(settings, "timeline.jsonl", *ARTICLES)
    sample_day = sample_ingested_at(settings).astimezone(settings.tz).date().isoformat()
    async with running_bot(fake, settings) as tg:
        reply = await tg.say(USER, "/timeline 工会")
        text = assert_html_message(reply)
        assert text.startswith(msg.TIMELINE_TITLE.format(keyword="工会"))
        assert f"首次提到 2024-03-05 · 最近一次 {sample_day} · 共 " in text
        total = int(text.split(" · 共 ")[1].split(" 篇")[0])
        assert 11 < total <= 11 + len(SAMPLE_HEADLINES)  # the reports, and the page's articles saying 工会
        assert "<pre>" in (reply.text or "") and "2025 " in text  # the months, a bar each

        labels = re.findall(r"^\d+\. (\d{4}-\d{2})", text, flags=re.M)
        assert labels == sorted(labels) and labels[:4] == ["2024-03", "2024-09", "2025-01", "2025-06"]
        assert labels[-1] == sample_day[:7]
        sources = re.findall(r"^📰 (\d{4}-\d{2}-\d{2}).* · #(\d+)(?: \(tl-\d+\))?$", text, flags=re.M)
        assert len(sources) == len(labels)  # every period quotes a dated passage
        assert all(day[:7] >= label for (day, _), label in zip(sources, labels, strict=True))
        assert msg.TIMELINE_UNDATED.format(day=sample_day) in text  # the page gives no date of its own

        buttons = buttons_of(reply)
        assert buttons == {f"#{article_id}": f"a:{article_id}:0" for _, article_id in sources}
        since = tg.fake.mark()
        last_id = sources[-1][1]
        await tg.press(reply, buttons[f"#{last_id}"])
        opened = assert_html_message(await tg.next_message(USER, since))
        assert any(h in opened.split("\n")[:3] for h in SAMPLE_HEADLINES)


async def test_timeline_without_a_keyword_or_a_mention_says_so(tg: Harness) -> None:
    assert (await tg.say(USER, "/timeline")).plain_text == msg.TIMELINE_USAGE
    none = await tg.say(USER, "/timeline 火星移民")
    assert none.plain_text == msg.TIMELINE_NONE.format(keyword="火星移民") and not buttons_of(none)
    odd = await tg.say(USER, "/timeline <b>的</b>")
    assert odd.plain_text == msg.TIMELINE_NONE.format(keyword="<b>的</b>")  # escaped, b is a word here
    assert (await tg.say(USER, "/timeline 的")).plain_text == msg.TIMELINE_NO_WORDS.format(keyword="的")


async def test_help_and_the_command_menu_offer_the_timeline(tg: Harness) -> None:
    assert "/timeline" in ((await tg.say(USER, "/help")).plain_text or "")
    assert {"command": "timeline", "description": "话题时间线：/timeline 关键词"} in tg.fake.commands()
