"""From raw upload to normalised text: size, binary and encoding checks, mojibake repair, hash.

Rules, in the order they are applied:

1. More than ``settings.SPECGATE_IMPORT_MAX_BYTES`` (2 MB) of UTF-8 is refused (status 413).
2. A UTF-8 byte order mark is dropped. UTF-16/32 (a BOM of their own) is refused with a hint.
3. NUL bytes, or more than 10 % control characters, mean the file is binary: refused.
4. Bytes that are not valid UTF-8 are refused, naming the line of the first bad byte. Nothing
   is ever decoded as Latin-1 behind the curator's back.
5. ``\\r\\n`` and lone ``\\r`` become ``\\n``; other control characters are dropped (tab stays);
   trailing spaces and trailing blank lines are stripped. Line numbers are not changed.
6. Mis-encoded text is repaired: UTF-8 that was read as Mac Roman and saved again as UTF-8
   (``‚úÖ`` for ✅, ``‚ñ°`` for □, ``üß†`` for 🧠) is turned back, one character at a time,
   wherever the Mac Roman bytes form a valid UTF-8 sequence that decodes to a printable
   character. Two-byte sequences are only trusted when they give a Latin letter or sign
   (U+00A0–U+024F), so that ordinary text such as ``“é`` is left alone. Anything that cannot be
   repaired is kept as it is. An emoji whose invisible lead character was lost on the way
   (``üß†`` without the Apple-logo character before it) is repaired too.
7. Empty or whitespace-only text is refused.

``content_hash`` is the SHA-256 of the normalised text, so an unchanged file always hashes the
same, whatever its line endings or trailing spaces.
"""

import hashlib
import re
import unicodedata

from django.conf import settings

from .errors import ImportFailed

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
BINARY_CONTROL_RATIO = 0.10

_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_BAD_CATEGORIES = {"Cc", "Cs", "Co", "Cn"}
_JOINERS = {"\ufe0e", "\ufe0f", "\u20e3"}  # variation selectors and keycap may stand alone


def _mac_roman_byte_map() -> dict[str, int]:
    """Each non-ASCII Mac Roman character and the byte it stands for."""
    return {bytes([b]).decode("mac_roman"): b for b in range(0x80, 0x100)}


_MAC_BYTE = _mac_roman_byte_map()


def max_bytes() -> int:
    try:
        return int(getattr(settings, "SPECGATE_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))
    except Exception:  # settings not configured: use the documented default
        return DEFAULT_MAX_BYTES


def _line_of(data: bytes | str, offset: int) -> int:
    newline = b"\n" if isinstance(data, bytes) else "\n"
    return data.count(newline, 0, offset) + 1


def decode(data: bytes | str, name: str) -> str:
    """The document as text, or ImportFailed for oversized, binary or non-UTF-8 input."""
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes | str):
        raise ImportFailed(name, "the upload is not a text document.")
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    limit = max_bytes()
    if size > limit:
        raise ImportFailed(
            name,
            f"the file is {size:,} bytes; the limit is {limit:,} bytes ({limit / 1024 / 1024:g} MB).",
            status=413,
        )
    if isinstance(data, str):
        return _check_text(data.removeprefix("\ufeff"), name)
    if data.startswith(_UTF16_32_BOMS):
        raise ImportFailed(
            name, "the file is UTF-16 or UTF-32 encoded; save it as UTF-8 and try again."
        )
    data = data.removeprefix(b"\xef\xbb\xbf")
    if b"\x00" in data:
        raise _binary(name, _line_of(data, data.index(b"\x00")))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex().upper()
        raise ImportFailed(
            name,
            f"the file is not valid UTF-8 (byte 0x{bad} cannot be decoded); save it as UTF-8.",
            line=_line_of(data, exc.start),
        ) from None
    return _check_text(text, name)


def _binary(name: str, line: int) -> ImportFailed:
    return ImportFailed(
        name, "the file looks binary (it contains NUL bytes), not like text.", line=line
    )


def _check_text(text: str, name: str) -> str:
    if "\x00" in text:
        raise _binary(name, _line_of(text, text.index("\x00")))
    surrogate = re.search(r"[\ud800-\udfff]", text)
    if surrogate:
        raise ImportFailed(
            name,
            "the text is not valid Unicode (a lone surrogate).",
            line=_line_of(text, surrogate.start()),
        )
    controls = sum(1 for _ in _CONTROL.finditer(text.replace("\r", "")))
    if text and controls > BINARY_CONTROL_RATIO * len(text):
        raise ImportFailed(
            name, "the file looks binary (mostly control characters), not like text."
        )
    return text


def _acceptable(fixed: str, size: int) -> bool:
    """Is ``fixed`` (one character, with joiners) a plausible repair of ``size`` bytes?"""
    if any(unicodedata.category(ch) in _BAD_CATEGORIES for ch in fixed):
        return False
    first = fixed[0]
    if unicodedata.category(first).startswith("M") and first not in _JOINERS:
        return False
    return size > 2 or "\u00a0" <= first <= "\u024f"


def _sequence_length(lead: int) -> int:
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 0


def _repair_run(match: re.Match[str]) -> str:
    run = match.group()
    out: list[str] = []
    i = 0
    while i < len(run):
        size = _sequence_length(_MAC_BYTE.get(run[i], 0))
        piece = run[i : i + size] if size else ""
        if len(piece) == size and size and all(ch in _MAC_BYTE for ch in piece):
            try:
                fixed = bytes(_MAC_BYTE[ch] for ch in piece).decode("utf-8")
            except UnicodeDecodeError:
                fixed = ""
            if fixed and _acceptable(fixed, size):
                out.append(fixed)
                i += size
                continue
        emoji = _headless_emoji(run, i)
        if emoji:
            out.append(emoji)
            i += 3
            continue
        out.append(run[i])
        i += 1
    return "".join(out)


def _headless_emoji(run: str, i: int) -> str:
    """``üß†`` is 🧠 whose lead byte (0xF0, a private-use character in Mac Roman) was lost."""
    piece = run[i : i + 3]
    if len(piece) < 3 or _MAC_BYTE.get(piece[0]) != 0x9F:
        return ""
    tail = [_MAC_BYTE.get(ch, 0) for ch in piece[1:]]
    if not all(0x80 <= b <= 0xBF for b in tail):
        return ""
    fixed = bytes([0xF0, 0x9F, *tail]).decode("utf-8")
    return fixed if "\U0001f000" <= fixed <= "\U0001faff" else ""


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 → Mac Roman → UTF-8 damage where it can be undone; keep the rest."""
    return _NON_ASCII_RUN.sub(_repair_run, text)


def normalise(text: str) -> str:
    """Newlines, controls, trailing spaces, mojibake: the text that is parsed and hashed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub(lambda m: " " if m.group() in "\x0b\x0c" else "", text)
    text = repair_mojibake(text)
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_source(data: bytes | str, name: str) -> str:
    """Decode, check and normalise; refuse a document with nothing in it."""
    text = normalise(decode(data, name))
    if not text.strip():
        raise ImportFailed(name, "the file is empty.")
    return text
