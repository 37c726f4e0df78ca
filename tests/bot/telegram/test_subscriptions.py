"""Subscriptions over Telegram (``bot/telegram/subscriptions.py``): /subscribe, the listing's delete and
move buttons, /unsubscribe, and group administrators only in groups.
"""

from __future__ import annotations

from bot import messages as msg

from .harness import (
    ADMIN,
    GROUP,
    MEMBER,
    OTHER,
    USER,
    WAIT,
    Harness,
    active_subscriptions,
    assert_html_message,
    buttons_of,
)


async def test_subscribe_confirms_and_a_sixth_subscription_is_refused(tg: Harness) -> None:
    confirmations = [
        (await tg.say(USER, command)).plain_text
        for command in (
            "/subscribe 08:00 工会",
            "/subscribe",
            "/subscribe 7:30 清淤 工会 清淤",
            "/subscribe 20：15 港口",  # a full-width colon, as Chinese keyboards type it
            "/subscribe 12:00",
        )
    ]
    assert confirmations == [
        msg.SUBSCRIBED.format(id=1, at="08:00", what=msg.SUBSCRIBED_KEYWORDS.format(keywords="工会")),
        msg.SUBSCRIBED.format(id=2, at="08:00", what=msg.SUBSCRIBED_ALL),
        msg.SUBSCRIBED.format(id=3, at="07:30", what=msg.SUBSCRIBED_KEYWORDS.format(keywords="清淤 工会")),
        msg.SUBSCRIBED.format(id=4, at="20:15", what=msg.SUBSCRIBED_KEYWORDS.format(keywords="港口")),
        msg.SUBSCRIBED.format(id=5, at="12:00", what=msg.SUBSCRIBED_ALL),
    ]
    assert (await tg.say(USER, "/subscribe 25:00 工会")).plain_text == msg.SUBSCRIBE_BAD_TIME.format(
        text="25:00"
    )
    assert (await tg.say(USER, "/subscribe 21:00")).plain_text == msg.SUBSCRIBE_LIMIT.format(limit=5)
    assert (await tg.say(OTHER, "/subscribe 21:00")).plain_text == msg.SUBSCRIBED.format(
        id=6, at="21:00", what=msg.SUBSCRIBED_ALL
    )  # the limit is per chat

    assert len(active_subscriptions(tg.settings)) == 6
    queue = tg.app.job_queue
    assert queue is not None
    for at in ("07:30", "08:00", "12:00", "20:15", "21:00"):
        assert len(queue.get_jobs_by_name(f"digest-{at}")) == 1


async def test_subscriptions_list_and_its_delete_and_time_buttons(tg: Harness) -> None:
    await tg.say(USER, "/subscribe 08:00 工会")
    await tg.say(USER, "/subscribe 12:00")
    listing = await tg.say(USER, "/subscriptions")
    assert assert_html_message(listing).split("\n") == [
        "订阅",
        msg.SUBSCRIPTION_LINE.format(id=1, at="08:00", what=msg.SUBSCRIBED_KEYWORDS.format(keywords="工会")),
        msg.SUBSCRIPTION_LINE.format(id=2, at="12:00", what=msg.SUBSCRIBED_ALL),
    ]
    assert buttons_of(listing) == {
        "🗑 #1": "s:d:1",
        "#1 改为 07:00": "s:t:1:0700",
        "#1 改为 12:00": "s:t:1:1200",
        "#1 改为 20:00": "s:t:1:2000",
        "🗑 #2": "s:d:2",
        "#2 改为 07:00": "s:t:2:0700",
        "#2 改为 20:00": "s:t:2:2000",
    }

    since = tg.fake.mark()
    moved = await tg.press(listing, "s:t:1:2000")
    assert moved.text == msg.SUBSCRIPTION_MOVED.format(id=1, at="20:00")
    edit = await tg.fake.wait_for("editMessageText", since=since, timeout=WAIT)
    assert edit.params["message_id"] == listing.message_id
    assert msg.SUBSCRIPTION_LINE.format(
        id=1, at="20:00", what=msg.SUBSCRIBED_KEYWORDS.format(keywords="工会")
    ) in (edit.plain_text or "")
    assert len(tg.app.job_queue.get_jobs_by_name("digest-20:00")) == 1  # type: ignore[union-attr]

    current = tg.fake.message(USER, listing.message_id or 0)
    assert current is not None
    since = tg.fake.mark()
    deleted = await tg.press(current, "s:d:2")
    assert deleted.text == msg.UNSUBSCRIBED.format(ids="#2")
    edit = await tg.fake.wait_for("editMessageText", since=since, timeout=WAIT)
    assert "#2" not in (edit.plain_text or "") and "s:d:2" not in buttons_of(edit).values()
    assert active_subscriptions(tg.settings) == [(1, USER, "20:00", "工会")]

    # Stale, forged and other chats' subscription buttons: the expired alert, and nothing changes.
    await tg.say(OTHER, "/subscribe 07:00")
    theirs = await tg.say(OTHER, "/subscriptions")
    presses = [
        (current, "s:d:2"),  # deleted already
        (current, "s:t:1:9999"),
        (current, "s:t:1:2460"),
        (current, "s:d:²"),
        (current, "s:d:" + "9" * 40),
        (current, "s:x:1"),
        (current, "s:t:1"),
        (theirs, "s:d:1"),  # USER's subscription, pressed in OTHER's chat
        (theirs, "s:t:1:0700"),
    ]
    since = tg.fake.mark()
    for message, data in presses:
        alert = await tg.press(message, data, check=False)
        assert (alert.text, alert.params.get("show_alert")) == (msg.SESSION_EXPIRED, True), data
    await tg.settle()
    assert tg.chat_messages(USER, since) == [] and tg.chat_messages(OTHER, since) == []
    assert active_subscriptions(tg.settings) == [(1, USER, "20:00", "工会"), (3, OTHER, "07:00", "")]


async def test_unsubscribe_by_number_and_all(tg: Harness) -> None:
    for command in ("/subscribe 08:00", "/subscribe 12:00 工会", "/subscribe 20:00"):
        await tg.say(USER, command)
    assert (await tg.say(USER, "/unsubscribe #2")).plain_text == msg.UNSUBSCRIBED.format(ids="#2")
    assert (await tg.say(USER, "/unsubscribe 99")).plain_text == msg.UNSUBSCRIBE_NONE
    assert (await tg.say(USER, "/unsubscribe")).plain_text == msg.UNSUBSCRIBED.format(ids="#1、#3")
    assert (await tg.say(USER, "/unsubscribe")).plain_text == msg.UNSUBSCRIBE_NONE
    none = await tg.say(USER, "/subscriptions")
    assert none.plain_text == msg.SUBSCRIPTIONS_NONE and none.reply_markup is None
    assert active_subscriptions(tg.settings) == []


async def test_in_groups_only_administrators_manage_subscriptions(tg: Harness) -> None:
    group_admin, owner = 9, 10
    tg.fake.set_chat_member(GROUP, group_admin, "administrator")
    tg.fake.set_chat_member(GROUP, owner, "creator")

    refused = await tg.say(GROUP, "/subscribe 08:00", user_id=MEMBER)
    assert refused.plain_text == msg.SUBSCRIBE_GROUP_ADMINS
    assert (
        await tg.say(GROUP, "/subscribe 08:00 工会", user_id=group_admin)
    ).plain_text == msg.SUBSCRIBED.format(
        id=1, at="08:00", what=msg.SUBSCRIBED_KEYWORDS.format(keywords="工会")
    )
    by_owner = await tg.say(GROUP, f"/subscribe@{tg.fake.username} 12:00", user_id=owner)
    assert by_owner.plain_text == msg.SUBSCRIBED.format(id=2, at="12:00", what=msg.SUBSCRIBED_ALL)
    by_bot_admin = await tg.say(GROUP, "/subscribe 20:00", user_id=ADMIN)  # the bot's own admin
    assert by_bot_admin.plain_text == msg.SUBSCRIBED.format(id=3, at="20:00", what=msg.SUBSCRIBED_ALL)
    assert (await tg.say(GROUP, "/unsubscribe", user_id=MEMBER)).plain_text == msg.SUBSCRIBE_GROUP_ADMINS

    # Anyone may look at the list, but its buttons are for administrators too.
    listing = await tg.say(GROUP, "/subscriptions", user_id=MEMBER)
    since = tg.fake.mark()
    for data in ("s:d:1", "s:t:2:0700"):
        alert = await tg.press(listing, data, user_id=MEMBER)
        assert alert.text == msg.SUBSCRIBE_GROUP_ADMINS and alert.params.get("show_alert") is True
    await tg.settle()
    assert [r for r in tg.fake.sent[since:] if r.method == "editMessageText"] == []
    assert [s[2] for s in active_subscriptions(tg.settings)] == ["08:00", "12:00", "20:00"]

    deleted = await tg.press(listing, "s:d:1", user_id=group_admin)
    assert deleted.text == msg.UNSUBSCRIBED.format(ids="#1")
    assert (await tg.say(GROUP, "/unsubscribe 2", user_id=owner)).plain_text == msg.UNSUBSCRIBED.format(
        ids="#2"
    )
    assert [s[0] for s in active_subscriptions(tg.settings)] == [3]


async def test_a_subscription_can_exclude_words_and_name_a_publication(tg: Harness) -> None:
    confirmed = await tg.say(USER, "/subscribe 08:00 工会 -体育 source:工人日报")
    assert "工会 -体育 source:工人日报" in (confirmed.plain_text or "")
    assert active_subscriptions(tg.settings) == [(1, USER, "08:00", "工会 -体育 source:工人日报")]
