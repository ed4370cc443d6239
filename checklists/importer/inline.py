"""Inline rules shared by the importer and the exporter: markers, text clean-up, metadata.

Text clean-up (item text, titles, guidance): literal ``\\n`` sequences (text that was escaped
twice) become spaces, complete HTML comments are dropped, links become
``text (url)``, images their alt text, ``**bold**``/``__bold__`` and ``*italic*``/``_italic_``
markers are removed (the words stay), whitespace is collapsed. HTML and script text are kept as
text; they are escaped wherever they are shown. Item text and titles also lose a trailing colon;
item text loses leading decoration (``✅``, ``✔``, ``✓``). Every clean-up is idempotent, so an
exported document parses back to the same words.

Markers read from the titles around an item (innermost first):

* severity: ``(Must Fix)``, ``must have``, ``(required)``, a title starting with "Critical" or
  "Blocker" → ``must``; ``(Should Fix)``, ``should have``, a title starting with "Important" →
  ``should``; ``(Consider)``, ``(Optimize)``, ``nice to have``, a title starting with
  "Suggestion" or "Minor" → ``could``. The nearest title with a marker wins; default ``should``.
* ``quality gate`` in any enclosing title → the item is a gate item.
* ``if applicable`` (or "where/when applicable", "(optional)") in the item or an enclosing
  title → the item is optional.

Exported items carry their key and flags in a trailing comment, e.g.
``- [ ] Text <!-- key: api-auth; severity: must; gate: yes; optional: no -->``; flags written
there override the markers above.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

BOX_CHARS = "□☐☑☒▢◻◽⬜❏❐❑❒"
_MOJIBAKE_BOXES = [c.encode("utf-8").decode("mac_roman") for c in BOX_CHARS]
_BOX_ALTERNATIVES = "|".join(re.escape(b) for b in [*_MOJIBAKE_BOXES, *BOX_CHARS])
BOX_START = re.compile(rf"^(?:{_BOX_ALTERNATIVES})\ufe0f?\s*")
CHECKBOX_START = re.compile(r"^\[[ xX]\](?:\s+|$)")
_DECORATION = re.compile(r"^(?:(?:✅|‚úÖ|✔|✓)\ufe0f?\s*)+")

RATIONALE_LABEL = "Why it matters"
RATIONALE_START = re.compile(
    r"^(?:\*\*|__)?(?:why it matters|why it'?s critical|why it'?s important|why|rationale)"
    r"\s*(?::\s*(?:\*\*|__)?|(?:\*\*|__)\s*:)\s*",
    re.IGNORECASE,
)
THEMATIC_BREAK = re.compile(r"^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")

_SPECIAL = re.compile(r"[*_\[<\\]")
_LITERAL_NEWLINE = re.compile(r"(?:\\r)?\\n")
_COMMENT = re.compile(r"<!--(?:(?!<!--|-->).)*-->", re.DOTALL)
_IMAGE = re.compile(r"!\[([^\[\]]*)\]\([^()\s]*\)")
_LINK = re.compile(r"\[([^\[\]]+)\]\(([^()\s]+)\)")
_UNDERSCORE_BOLD = re.compile(r"(?<![\w])__(?=\S)([^_]+?)(?<=\S)__(?![\w])")
_STAR_ITALIC = re.compile(r"(?<![\w*\\])\*(?=[^\s*])([^*]+?)(?<=[^\s*\\])\*(?![\w*])")
_UNDERSCORE_ITALIC = re.compile(r"(?<![\w\\])_(?=[^\s_])([^_]+?)(?<=[^\s_\\])_(?![\w])")
_TRAILING = re.compile(r"[\s:：]+$")
_CLOSING_HASHES = re.compile(r"(?:^|\s+)#+\s*$")

_MUST = re.compile(
    r"\bmust[\s-]*(?:fix|have)\b|\(\s*must\s*\)|\(\s*required\s*\)"
    r"|^[\W\d_]*(?:critical|blockers?)\b",
    re.IGNORECASE,
)
_SHOULD = re.compile(
    r"\bshould[\s-]*(?:fix|have)\b|\(\s*should\s*\)|\(\s*recommended\s*\)"
    r"|^[\W\d_]*important\b",
    re.IGNORECASE,
)
_COULD = re.compile(
    r"\(\s*(?:consider|optimi[sz]e|could)\s*\)|\bcould[\s-]*have\b|\bnice[\s-]*to[\s-]*have\b"
    r"|^[\W\d_]*(?:suggestions?|minor)\b",
    re.IGNORECASE,
)
_GATE = re.compile(r"\bquality[\s_-]*gates?\b", re.IGNORECASE)
_OPTIONAL = re.compile(r"\b(?:if|where|when) applicable\b|\(\s*optional\s*\)", re.IGNORECASE)
_META = re.compile(r"\s*<!--((?:(?!<!--|-->).){0,1000})-->\s*$")
_META_FIELD = re.compile(r"^\s*(key|severity|gate|optional)\s*[:=]\s*(.*?)\s*$", re.IGNORECASE)
KEY_RE = re.compile(r"^[-a-zA-Z0-9_]{1,80}$")
SEVERITIES = ("must", "should", "could")
_YES = {"yes", "true", "1", "y"}
_NO = {"no", "false", "0", "n"}


def _clean_once(text: str) -> str:
    text = _LITERAL_NEWLINE.sub(" ", text)
    text = _COMMENT.sub(" ", text)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(lambda m: m.group(1) if m.group(1) == m.group(2) else f"{m[1]} ({m[2]})", text)
    text = text.replace("**", "")
    text = _UNDERSCORE_BOLD.sub(r"\1", text)
    text = _STAR_ITALIC.sub(r"\1", text)
    text = _UNDERSCORE_ITALIC.sub(r"\1", text)
    return " ".join(text.split())


@lru_cache(maxsize=8192)
def clean_inline(text: str) -> str:
    """Markdown inline markers removed, whitespace collapsed; repeated until nothing changes."""
    if not _SPECIAL.search(text):
        return " ".join(text.split())
    for _ in range(8):
        cleaned = _clean_once(text)
        if cleaned == text:
            break
        text = cleaned
    return text


def strip_trailing_colon(text: str) -> str:
    return _TRAILING.sub("", text)


def clean_title(text: str, limit: int = 500) -> str:
    """A heading, label or group-row title: inline clean-up, no closing ``#``s, no colon."""
    text = clean_inline(text)
    for _ in range(8):
        before = text
        text = strip_trailing_colon(_CLOSING_HASHES.sub("", text))
        if text == before:
            break
    return strip_trailing_colon(text[:limit])


def clean_item_text(text: str) -> str:
    """An item's text: inline clean-up, leading decoration and trailing colon removed."""
    text = clean_inline(text)
    for _ in range(8):
        before = text
        text = strip_trailing_colon(_DECORATION.sub("", text))
        if text == before:
            break
    return text


def strip_box(text: str) -> tuple[bool, str]:
    """``(True, rest)`` when ``text`` starts with ``[ ]``/``[x]`` or a box character."""
    match = CHECKBOX_START.match(text) or BOX_START.match(text)
    if match:
        return True, text[match.end() :]
    return False, text


def starts_with_box(text: str) -> bool:
    return bool(CHECKBOX_START.match(text) or BOX_START.match(text))


@lru_cache(maxsize=4096)
def severity_of(title: str) -> str | None:
    for severity, pattern in (("must", _MUST), ("should", _SHOULD), ("could", _COULD)):
        if pattern.search(title):
            return severity
    return None


@lru_cache(maxsize=4096)
def is_gate_title(title: str) -> bool:
    return bool(_GATE.search(title))


@lru_cache(maxsize=4096)
def is_optional_text(text: str) -> bool:
    return bool(_OPTIONAL.search(text))


@dataclass
class Meta:
    """Explicit facets from an exporter comment; ``None`` means "derive from the headings"."""

    key: str = ""
    severity: str | None = None
    gate: bool | None = None
    optional: bool | None = None
    bad_key: str = ""


def _flag(value: str) -> bool | None:
    value = value.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    return None


def split_meta(text: str) -> tuple[Meta | None, str]:
    """A trailing ``<!-- key: …; severity: … -->`` comment, parsed, and the text before it."""
    match = _META.search(text)
    if not match:
        return None, text
    meta = Meta()
    found = False
    for part in match.group(1).split(";"):
        field = _META_FIELD.match(part)
        if not field:
            continue
        found = True
        name, value = field.group(1).lower(), field.group(2)
        if name == "key":
            if KEY_RE.match(value):
                meta.key = value
            else:
                meta.bad_key = value[:100]
        elif name == "severity" and value.lower() in SEVERITIES:
            meta.severity = value.lower()
        elif name == "gate":
            meta.gate = _flag(value)
        elif name == "optional":
            meta.optional = _flag(value)
    if not found:
        return None, text
    return meta, text[: match.start()]


def format_meta(key: str, severity: str | None, gate: bool | None, optional: bool | None) -> str:
    """The exporter's trailing comment; facets given as None are left out."""
    parts = [f"key: {key}"] if key else []
    if severity:
        parts.append(f"severity: {severity}")
    if gate is not None:
        parts.append(f"gate: {'yes' if gate else 'no'}")
    if optional is not None:
        parts.append(f"optional: {'yes' if optional else 'no'}")
    return f"<!-- {'; '.join(parts)} -->" if parts else ""
