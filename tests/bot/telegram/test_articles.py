"""Whole articles over Telegram (``bot/telegram/articles.py``): /latest, /article, opening an article
from an answer, and paging a long article in place.
"""

from __future__ import annotations

from typing import Any

from bot import messages as msg
from bot.config import Settings
from fakebot import FakeBotAPI, SentRecord
from tests.conftest import SAMPLE_HEADLINES

from .harness import (
    USER,
    WAIT,
    Harness,
    assert_html_message,
    buttons_of,
    ingest_articles,
    running_bot,
)


def long_article() -> dict[str, Any]:
    """An article of about 9,500 characters (three Telegram messages), with characters HTML must escape."""
    paragraphs = [
        f"第{i}个现场在滨江区第{i}街道，今年改造老旧住房{100 + i}户、加装电梯{i}部，居民说“<楼道亮了> & 出门方便了”。"
        "工作人员逐户走访，听取居民对停车、绿化和养老服务的意见，整理成清单，逐项落实到施工计划里。"
        for i in range(1, 101)
    ]
    return {
        "id": "city-renewal",
        "title": "城市更新的一百个现场",
        "date": "2026-11-19",
        "source": "滨江日报",
        "text": "\n".join(paragraphs),
    }


async def test_full_text_sends_the_article_in_pages_that_edit_in_place(
    fake: FakeBotAPI, settings: Settings
) -> None:
    article = long_article()
    ingest_articles(settings, "renewal.jsonl", article)
    async with running_bot(fake, settings) as tg:
        answer = await tg.say(USER, "城市更新的现场加装了多少部电梯？")
        assert "城市更新的一百个现场" in (answer.plain_text or "")
        full = next(data for text, data in buttons_of(answer).items() if text.startswith(msg.FULL_TEXT))
        article_id = int(full.split(":")[1])  # the 全文 button opens it: a:<id>:0

        since = tg.fake.mark()
        await tg.press(answer, full)
        page1 = await tg.next_message(USER, since)
        assert page1.message_id != answer.message_id  # the answer stays; the article is a new message
        counter = next(text for text in buttons_of(page1) if "/" in text)
        pages = int(counter.split("/")[1])
        assert pages >= 3
        assert buttons_of(page1) == {f"1/{pages}": f"ap:{article_id}:0", msg.NEXT: f"ap:{article_id}:1"}

        seen = [assert_html_message(page1)]
        current: SentRecord | dict[str, Any] = page1
        for page in range(1, pages):
            since = tg.fake.mark()
            await tg.press(current, f"ap:{article_id}:{page}")
            edit = await tg.fake.wait_for("editMessageText", since=since, timeout=WAIT)
            assert edit.params["message_id"] == page1.message_id
            seen.append(assert_html_message(edit))
            stored = tg.fake.message(USER, page1.message_id or 0)
            assert stored is not None
            current = stored
            if 0 < page < pages - 1:
                assert list(buttons_of(current).values()) == [
                    f"ap:{article_id}:{page - 1}",
                    f"ap:{article_id}:{page}",
                    f"ap:{article_id}:{page + 1}",
                ]
        last = pages - 1
        assert buttons_of(current) == {
            msg.PREVIOUS: f"ap:{article_id}:{last - 1}",
            f"{pages}/{pages}": f"ap:{article_id}:{last}",
        }

        # Tapping the page counter (or a page twice) changes nothing and sends nothing.
        since = tg.fake.mark()
        await tg.press(current, f"ap:{article_id}:{last}")
        await tg.settle()
        assert tg.chat_messages(USER, since) == []
        assert [r.method for r in tg.fake.sent[since:] if r.method == "editMessageText"] == []

    whole = "".join(seen).replace("\n", "")  # a paragraph may continue on the next page
    assert seen[0].startswith("城市更新的一百个现场")
    for paragraph in article["text"].split("\n"):
        assert paragraph in whole  # every paragraph, with < > & shown as written
    assert whole.count("个现场在滨江区") == 100  # and none twice
    assert len(tg.chat_messages(USER)) == 2  # the answer and one article message, edited in place


async def test_latest_lists_headlines_and_article_shows_one(tg: Harness) -> None:
    latest = await tg.say(USER, "/latest")
    text = assert_html_message(latest)
    assert text.startswith("最新文章")
    for headline in SAMPLE_HEADLINES:
        assert headline in text
    assert sorted(buttons_of(latest).values()) == [f"a:{i}:0" for i in range(1, 7)]

    since = tg.fake.mark()
    await tg.press(latest, "a:3:0")
    opened = await tg.next_message(USER, since)
    assert "\n广西象州县“三融合”加强工会建设\n" in assert_html_message(opened)  # kicker, headline, ...
    assert tg.fake.message(USER, latest.message_id or 0)["text"] == latest.plain_text  # type: ignore[index]

    by_command = await tg.say(USER, "/article 5")
    assert "大安山里的“清淤战”" in assert_html_message(by_command).split("\n")[:3]
    assert "王青" in (by_command.plain_text or "")
    assert SAMPLE_HEADLINES[1] in ((await tg.say(USER, "/article #2")).plain_text or "").split("\n")[:3]
    assert (await tg.say(USER, "/article 999")).plain_text == msg.ARTICLE_NOT_FOUND.format(ref="999")
    assert (await tg.say(USER, "/article <b>x</b>")).plain_text == msg.ARTICLE_NOT_FOUND.format(
        ref="<b>x</b>"
    )
    assert (await tg.say(USER, "/article")).plain_text == msg.ARTICLE_USAGE
