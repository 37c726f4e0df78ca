"""The Telegram front end (python-telegram-bot v22): ``build_application`` wires one module per feature
to the service; ``run_bot`` runs it by long polling or webhook.

    app.py            the application: rate limits and retries, token filter, jobs, fallbacks, errors
    runtime.py        what handlers share (settings, service, limiters) and how a message is edited
    callbacks.py      one typed dataclass per kind of button: encode() ≤ 64 bytes, PATTERN routes it
    keyboards.py      every inline keyboard
    questions.py      questions, /ask, groups, /start's examples, answer pages and feedback, /start, /help
    articles.py       /latest, /article, opening and paging whole articles
    digests.py        /digest, /trend, the daily digest jobs
    timelines.py      /timeline: a topic's first and last mention, monthly counts, a passage per period
    broadcast.py      sending scheduled digests: planned, recorded, resumed, within Telegram's limits
    subscriptions.py  /subscribe, /subscriptions (buttons), /unsubscribe
    admin.py          /stats, /reload, uploads
    inline.py         inline mode
"""

from .app import build_application, run_bot
from .runtime import BotRuntime

__all__ = ["BotRuntime", "build_application", "run_bot"]
