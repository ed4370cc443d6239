"""Stable item keys: carried over from the previous version while an item's text is the same."""

import hashlib
import re

from django.utils.text import slugify

from checklists.models import Item
from checklists.parsed import ParsedChecklist, ParsedItem
from config.errors import InvalidInput

SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+\Z")
KEY_MAX = Item._meta.get_field("key").max_length


def normalise_text(text: str) -> str:
    return " ".join((text or "").split()).casefold()


def new_key(text: str, taken: set[str]) -> str:
    base = slugify(text)[:50].strip("-_") or "item"
    digest = hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()
    for length in (6, 10, 16):
        key = f"{base}-{digest[:length]}"
        if key not in taken:
            return key
    counter = 2
    while f"{base}-{digest[:6]}-{counter}" in taken:
        counter += 1
    return f"{base}-{digest[:6]}-{counter}"


def _explicit_key(item: ParsedItem) -> str:
    key = (item.key or "").strip()
    if key and not SLUG_RE.match(key):
        key = slugify(key)
    return key[:KEY_MAX]


def assign_keys(tree: ParsedChecklist, previous: list[tuple[str, str, str, str]]) -> list[str]:
    """Keys for ``tree.all_items()`` in order.

    ``previous`` holds ``(key, text, section title, group title)`` of the latest earlier
    version. Explicit keys from the document win; otherwise an item whose normalised text
    matches an earlier item keeps that item's key (same section and group preferred); other
    items get ``slugify(text)[:50]`` plus a short hash, unique within the version and never
    reusing an earlier item's key.
    """
    placed = []  # (item, section title, group title)
    for section in tree.sections:
        placed.extend((item, section.title, "") for item in section.items)
        for group in section.groups:
            placed.extend((item, section.title, group.title) for item in group.items)

    keys: list[str] = [""] * len(placed)
    used: dict[str, int] = {}
    for index, (item, _, _) in enumerate(placed):
        key = _explicit_key(item)
        if not key:
            continue
        if key in used:
            first = placed[used[key]][0]
            raise InvalidInput(
                f"{tree.source_name}, line {item.line}: the key '{key}' is already used by "
                f"the item on line {first.line}; keys must be unique.",
                details={"line": item.line, "key": key},
            )
        used[key] = index
        keys[index] = key

    candidates: dict[str, list[tuple[str, str, str]]] = {}
    for key, text, section_title, group_title in previous:
        candidates.setdefault(normalise_text(text), []).append(
            (key, normalise_text(section_title), normalise_text(group_title))
        )
    for index, (item, section_title, group_title) in enumerate(placed):
        if keys[index]:
            continue
        options = [c for c in candidates.get(normalise_text(item.text), []) if c[0] not in used]
        if not options:
            continue
        here = (normalise_text(section_title), normalise_text(group_title))
        best = max(options, key=lambda c: (c[1] == here[0]) * 2 + (c[2] == here[1]))
        keys[index] = best[0]
        used[best[0]] = index

    taken = set(used) | {row[0] for row in previous}
    for index, (item, _, _) in enumerate(placed):
        if not keys[index]:
            keys[index] = new_key(item.text, taken)
            taken.add(keys[index])
    return keys
