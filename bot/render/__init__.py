"""One answer, article and digest; one renderer per target.

- ``telegram``: HTML, escaped, within Telegram's 4096-character limit (answers, article pages, digests);
- ``terminal``: plain text with optional colour (``newsbot ask/show/digest/chat``);
- ``json``: data for scripts (``--json``);
- ``common``: what they share (how a headline, a source and a refusal read).
"""
