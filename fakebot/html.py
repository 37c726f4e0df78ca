"""Telegram's HTML subset (parse_mode=HTML) and its length rules: UTF-16 units, trimming."""

from __future__ import annotations

import re
from typing import Any

from .wire import ApiError


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_SIMPLE_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\n\r\f\v"
_STRICT_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([A-Za-z][A-Za-z0-9]*));")
_LENIENT_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|(lt|gt|amp|quot));?")


def _entity_error(message: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {message}")


def _decode_entity(text: str, i: int, strict: bool) -> tuple[str | None, int]:
    """Decode the HTML entity at text[i] == '&'. Returns (char, next index) or (None, i)."""
    m = (_STRICT_ENTITY_RE if strict else _LENIENT_ENTITY_RE).match(text, i)
    if m is None:
        if strict:
            raise _entity_error(
                f"Character '&' at byte offset {_byte_offset(text, i)} must be escaped as &amp; "
                "(only &lt; &gt; &amp; &quot; and numeric entities are supported)"
            )
        return None, i
    dec, hexa, name = m.groups()
    if name is not None:
        if name not in _NAMED_ENTITIES:
            if strict:
                raise _entity_error(
                    f'Unsupported HTML entity "&{name};" at byte offset {_byte_offset(text, i)}'
                )
            return None, i
        return _NAMED_ENTITIES[name], m.end()
    code = int(dec) if dec is not None else int(hexa, 16)
    if 0xD800 <= code <= 0xDFFF:
        raise _entity_error(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        )
    if code == 0 or code > 0x10FFFF:
        if strict:
            raise _entity_error(f"Invalid numeric HTML entity at byte offset {_byte_offset(text, i)}")
        return None, i
    return chr(code), m.end()


def _decode_attribute(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "&":
            ch, j = _decode_entity(value, i, strict=False)
            if ch is not None:
                out.append(ch)
                i = j
                continue
        out.append(value[i])
        i += 1
    return "".join(out)


def parse_html(text: str, *, strict: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram's HTML subset into (plain text, Bot API MessageEntity dicts).

    Follows tdlib's parser (tags, attributes, error messages with UTF-8 byte offsets; entity
    offsets in UTF-16 units). Raises ApiError(400, "Bad Request: can't parse entities: ...").
    ``strict=True`` additionally rejects '&' that does not start one of &lt; &gt; &amp; &quot;
    or a numeric entity with ';' (real Telegram leaves such text as it is).
    """
    out: list[str] = []
    pos = 0  # UTF-16 offset in the output
    stack: list[dict[str, Any]] = []
    entities: list[dict[str, Any]] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            ch, j = _decode_entity(text, i, strict)
            if ch is None:
                ch, j = "&", i + 1
            out.append(ch)
            pos += utf16_len(ch)
            i = j
            continue
        if c != "<":
            out.append(c)
            pos += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue

        begin = i
        boff = _byte_offset(text, begin)
        i += 1
        if i < n and text[i] == "/":  # end tag
            if not stack:
                raise _entity_error(f"Unexpected end tag at byte offset {boff}")
            i += 1
            j = i
            while i < n and text[i] not in _SPACES and text[i] != ">":
                i += 1
            name = text[j:i].lower()
            while i < n and text[i] in _SPACES:
                i += 1
            if i >= n or text[i] != ">":
                raise _entity_error(f"Unclosed end tag at byte offset {boff}")
            i += 1
            top = stack[-1]
            if name and name != top["tag"]:
                raise _entity_error(
                    f'Unmatched end tag at byte offset {boff}, expected "</{top["tag"]}>", found "</{name}>"'
                )
            stack.pop()
            _close_tag(top, pos, stack, entities)
            continue

        # start tag
        while i < n and text[i] not in _SPACES and text[i] != ">":
            i += 1
        if i >= n:
            raise _entity_error(f"Unclosed start tag at byte offset {boff}")
        tag = text[begin + 1 : i].lower()
        if tag not in _HTML_TAGS:
            raise _entity_error(f'Unsupported start tag "{tag}" at byte offset {boff}')
        attrs: dict[str, str] = {}
        while True:
            while i < n and text[i] in _SPACES:
                i += 1
            if i >= n:
                raise _entity_error(f'Unclosed start tag "{tag}" at byte offset {boff}')
            if text[i] == ">":
                i += 1
                break
            attr_begin = i
            while i < n and text[i] not in _SPACES and text[i] not in "=>":
                i += 1
            attr = text[attr_begin:i].lower()
            if not attr:
                raise _entity_error(f'Empty attribute name in the tag "{tag}" at byte offset {boff}')
            while i < n and text[i] in _SPACES:
                i += 1
            if i >= n:
                raise _entity_error(f'Unclosed start tag "{tag}" at byte offset {boff}')
            if text[i] != "=":
                if tag == "blockquote" and attr == "expandable":
                    attrs[attr] = ""
                    continue
                raise _entity_error(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}" at byte offset {boff}'
                )
            i += 1
            while i < n and text[i] in _SPACES:
                i += 1
            if i >= n:
                raise _entity_error(f'Unclosed start tag "{tag}" at byte offset {boff}')
            if text[i] in "\"'":
                quote = text[i]
                end = text.find(quote, i + 1)
                if end < 0:
                    raise _entity_error(f"Unclosed start tag at byte offset {boff}")
                value = _decode_attribute(text[i + 1 : end])
                i = end + 1
            else:
                j = i
                while i < n and ((text[i].isascii() and text[i].isalnum()) or text[i] in ".-"):
                    i += 1
                if i >= n:
                    raise _entity_error(f'Unclosed start tag "{tag}" at byte offset {boff}')
                if i == j or (text[i] not in _SPACES and text[i] != ">"):
                    raise _entity_error(
                        f"Unexpected end of name token at byte offset {_byte_offset(text, j)}"
                    )
                value = text[j:i]
            attrs[attr] = value
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise _entity_error(f'Tag "span" must have class "tg-spoiler" at byte offset {boff}')
        if tag == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise _entity_error("Invalid custom emoji identifier specified")
        stack.append({"tag": tag, "start": pos, "attrs": attrs, "language": None})
    if stack:
        raise _entity_error(f'Can\'t find end tag corresponding to start tag "{stack[-1]["tag"]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close_tag(
    item: dict[str, Any], end: int, stack: list[dict[str, Any]], entities: list[dict[str, Any]]
) -> None:
    tag, start, attrs = item["tag"], item["start"], item["attrs"]
    length = end - start
    if tag == "code" and stack and stack[-1]["tag"] == "pre":
        # <pre><code class="language-x">: the language belongs to the pre entity.
        cls = attrs.get("class", "")
        if cls.startswith("language-") and len(cls) > len("language-"):
            stack[-1]["language"] = cls[len("language-") :]
        return
    if length <= 0:
        return
    entity: dict[str, Any] = {"offset": start, "length": length}
    if tag in _SIMPLE_ENTITY:
        entity["type"] = _SIMPLE_ENTITY[tag]
    elif tag == "a":
        href = attrs.get("href")
        if not href:
            return
        m = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if m:
            entity["type"] = "text_mention"
            entity["user"] = {"id": int(m.group(1)), "is_bot": False, "first_name": f"User {m.group(1)}"}
        else:
            entity["type"] = "text_link"
            entity["url"] = href
    elif tag == "code":
        entity["type"] = "code"
    elif tag == "pre":
        entity["type"] = "pre"
        if item["language"]:
            entity["language"] = item["language"]
    elif tag == "blockquote":
        entity["type"] = "expandable_blockquote" if "expandable" in attrs else "blockquote"
    elif tag == "tg-emoji":
        entity["type"] = "custom_emoji"
        entity["custom_emoji_id"] = attrs["emoji-id"]
    else:  # pragma: no cover - every allowed tag is handled above
        return
    entities.append(entity)


def _strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims leading/trailing whitespace from message texts; entities move along."""
    stripped = text.strip(" \t\r\n")
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip(" \t\r\n"))])
    size = utf16_len(stripped)
    moved = []
    for entity in entities:
        start = max(0, int(entity["offset"]) - lead)
        end = min(size, int(entity["offset"]) + int(entity["length"]) - lead)
        if end > start:
            moved.append({**entity, "offset": start, "length": end - start})
    return stripped, moved


def _auto_entities(text: str) -> list[dict[str, Any]]:
    """The entities a Telegram client would attach: bot commands and @mentions."""
    found = []
    for m in re.finditer(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?", text):
        found.append(("bot_command", m))
    for m in re.finditer(r"(?<![\w@/])@[A-Za-z0-9_]{4,32}", text):
        found.append(("mention", m))
    entities: list[dict[str, Any]] = [
        {"type": kind, "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())}
        for kind, m in found
    ]
    entities.sort(key=lambda e: e["offset"])
    return entities
