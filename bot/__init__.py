"""The front ends: the ``newsbot`` CLI, the terminal chat, the Telegram bot, rendering and settings."""
