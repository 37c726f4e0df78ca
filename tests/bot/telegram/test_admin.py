"""Operators over Telegram (``bot/telegram/admin.py``): uploads ingested and answered from, refused
uploads, /stats and /reload for admins only.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from pathlib import Path

from bot import messages as msg
from fakebot import FakeBotAPI
from tests.conftest import SAMPLE_HEADLINES

from .harness import (
    ADMIN,
    PORT_ARTICLE,
    USER,
    WAIT,
    Harness,
    assert_html_message,
    buttons_of,
    jsonl,
    make_settings,
    running_bot,
)


async def test_admin_upload_is_ingested_and_then_answers_questions(tg: Harness) -> None:
    done = await tg.upload("port-news.jsonl", PORT_ARTICLE)
    assert re.fullmatch(r"已导入「port-news\.jsonl」：1 篇文章、\d+ 个段落（新增）。", done)
    assert (tg.settings.uploads_dir / "port-news.jsonl").read_bytes() == jsonl(PORT_ARTICLE)

    reply = await tg.say(USER, "青岛港新航线首航装载了多少标箱？")
    assert "3200标箱" in (reply.plain_text or "") and PORT_ARTICLE["title"] in (reply.plain_text or "")

    assert await tg.upload("port-news.jsonl", PORT_ARTICLE) == msg.UPLOAD_UNCHANGED.format(
        name="port-news.jsonl"
    )


async def test_source_lines_carry_dates_and_a_refusal_about_time_names_the_archives_range(
    tg: Harness,
) -> None:
    await tg.upload("port-news.jsonl", PORT_ARTICLE)  # the only dated article: the archive is 2026-11-20
    text = (await tg.say(USER, "青岛港新航线首航装载了多少标箱？")).plain_text or ""
    assert "📰 2026-11-20 · " + PORT_ARTICLE["title"] in text

    text = (await tg.say(USER, "2028年青岛港新航线首航装载了多少标箱？")).plain_text or ""
    assert "2026-11-20 至 2026-11-20" in text and "2028" in text and "3200标箱" not in text
    assert PORT_ARTICLE["title"] + "（2026-11-20）" in text  # the nearest report, offered as such


async def test_uploads_from_non_admins_of_wrong_type_or_too_big_are_refused(
    fake: FakeBotAPI, seeded_db: Path
) -> None:
    settings = make_settings(seeded_db, fake, max_upload_bytes=1_000_000)
    async with running_bot(fake, settings) as tg:
        since = tg.fake.mark()
        tg.fake.send_document(USER, USER, "news.jsonl", jsonl(PORT_ARTICLE), "application/jsonl")
        assert (await tg.next_message(USER, since)).plain_text == msg.ADMIN_ONLY

        since = tg.fake.mark()
        tg.fake.send_document(ADMIN, ADMIN, "report.pdf", b"%PDF-1.4 ...", "application/pdf")
        assert (await tg.next_message(ADMIN, since)).plain_text == msg.UPLOAD_TYPE

        since = tg.fake.mark()
        tg.fake.send_document(ADMIN, ADMIN, "big.txt", "新闻".encode() * 250_000, "text/plain")  # 1.5 MB
        assert (await tg.next_message(ADMIN, since)).plain_text == msg.UPLOAD_TOO_BIG.format(
            size=1.5, limit=1.0
        )

        # A document whose size Telegram did not report is measured after the download.
        since = tg.fake.mark()
        file = tg.fake.add_file(b"x" * 1_200_000, file_name="unsized.txt", mime_type="text/plain")
        tg.fake.enqueue(
            {
                "message": {
                    "message_id": 500,
                    "date": int(time.time()),
                    "chat": {"id": ADMIN, "type": "private", "first_name": "Admin"},
                    "from": {"id": ADMIN, "is_bot": False, "first_name": "Admin"},
                    "document": {
                        "file_id": file["file_id"],
                        "file_unique_id": file["file_unique_id"],
                        "file_name": "unsized.txt",
                    },
                }
            }
        )
        records = await tg.fake.wait_for("sendMessage", chat_id=ADMIN, since=since, count=2, timeout=WAIT)
        assert [r.plain_text for r in records] == [
            msg.UPLOAD_RECEIVED,
            msg.UPLOAD_TOO_BIG.format(size=1.2, limit=1.0),
        ]
        await tg.settle()

    assert not settings.uploads_dir.exists() or list(settings.uploads_dir.iterdir()) == []
    with contextlib.closing(sqlite3.connect(settings.db)) as db:
        assert db.execute("SELECT count(*) FROM articles").fetchone() == (len(SAMPLE_HEADLINES),)


async def test_uploaded_file_names_cannot_leave_the_uploads_folder(tg: Harness, tmp_path: Path) -> None:
    before = {p for p in tmp_path.rglob("*")}
    names = [
        "../../../etc/cron.d/newsbot; rm -rf ~.jsonl",
        "..\\..\\windows\\$(reboot)`id`.jsonl",
        ".hidden|&<x>.jsonl",
    ]
    for n, name in enumerate(names):
        article = {**PORT_ARTICLE, "id": f"port-{n}", "title": f"{PORT_ARTICLE['title']}（{n}）"}
        done = await tg.upload(name, article)
        assert done.startswith("已导入「"), done

    uploads = tg.settings.uploads_dir.resolve()
    for name in names:  # not where the names point (outside, or odd names inside the folder)
        assert not (uploads / name).resolve().exists(), name
    created = {p for p in tmp_path.rglob("*") if p not in before and p.is_file()}
    stored = sorted(p for p in created if p.parent == uploads)
    assert len(stored) == 3
    for path in stored:
        assert re.fullmatch(r"[\w.\-]+", path.name) and not path.name.startswith(".")
    # Nothing landed anywhere else (the database and its index change; no other new files).
    stray = [p for p in created if p.parent != uploads and not p.name.startswith("newsbot.db")]
    assert [p for p in stray if ".index" not in str(p)] == []


async def test_stats_for_admins_and_a_refusal_for_others(tg: Harness) -> None:
    question = await tg.say(USER, "象州县投入多少钱加强实体平台建设？")
    await tg.press(question, buttons_of(question)["👍"])
    await tg.say(USER, "今年高考作文题目是什么?")  # not answered

    stats = await tg.say(ADMIN, "/stats")
    with tg.db() as db:
        paragraphs = db.execute("SELECT count(*) FROM paragraphs").fetchone()[0]
    assert assert_html_message(stats) == msg.STATS.replace("<b>", "").replace("</b>", "").format(
        articles=6,
        paragraphs=paragraphs,
        questions=2,
        answered_share="50%",
        helpful=1,
        not_helpful=0,
        subscribers=0,
        blocked=0,
    )
    assert (await tg.say(USER, "/stats")).plain_text == msg.ADMIN_ONLY


async def test_reload_rebuilds_the_index_for_admins_only(tg: Harness) -> None:
    with tg.db() as db:
        paragraphs = db.execute("SELECT count(*) FROM paragraphs").fetchone()[0]
    assert (await tg.say(ADMIN, "/reload")).plain_text == msg.RELOADED.format(paragraphs=paragraphs)
    assert (await tg.say(USER, "/reload")).plain_text == msg.ADMIN_ONLY
    assert "680万元" in ((await tg.say(USER, "象州县投入多少钱加强实体平台建设？")).plain_text or "")
