"""YAML front matter: the ``---`` … ``---`` block at the top that gives title and description.

* The block must start on the first line and end with a ``---`` (or ``...``) line; an unclosed
  block is not front matter (the ``---`` is then an ordinary rule).
* It is read with PyYAML's pure-Python safe composer, looking only at top-level scalars, so
  anchors and aliases cannot blow up. Blocks over 100 kB or nested deeper than 50 brackets are
  not given to YAML at all.
* Broken YAML is not an error: the block is then read line by line as ``key: value``.
* ``title`` (else ``name``) is the title; ``description`` the description. Literal ``\\n``
  sequences in a value (front matter that was escaped twice) become real newlines, literal
  ``\\t`` a space.
"""

import re
from dataclasses import dataclass, field

import yaml

YAML_MAX_CHARS = 100_000
YAML_MAX_DEPTH = 50
TITLE_MAX = 200

_FENCE = re.compile(r"^(---|\.\.\.)\s*$")
_KEY_VALUE = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s?(.*)$")


@dataclass
class FrontMatter:
    values: dict[str, str] = field(default_factory=dict)
    body_start: int = 0  # index of the first body line
    present: bool = False

    @property
    def title(self) -> str:
        raw = self.values.get("title") or self.values.get("name") or ""
        return clean_title(unescape(raw))

    @property
    def description(self) -> str:
        return clean_description(unescape(self.values.get("description", "")))


def unescape(value: str) -> str:
    """Literal ``\\n`` → newline, literal ``\\t`` → space (double-escaped front matter)."""
    return value.replace("\\r\\n", "\n").replace("\\n", "\n").replace("\\t", " ")


def clean_title(value: str) -> str:
    return " ".join(value.split())[:TITLE_MAX].strip()


def clean_description(value: str) -> str:
    lines = [line.rstrip() for line in value.split("\n")]
    text = "\n".join(lines).strip()
    return re.sub(r"\n{3,}", "\n\n", text)


def split_front_matter(lines: list[str]) -> FrontMatter:
    """Find and read the front matter block; ``body_start`` says where the body begins."""
    if not lines or lines[0].strip() != "---":
        return FrontMatter()
    for index in range(1, len(lines)):
        if _FENCE.match(lines[index]):
            block = "\n".join(lines[1:index])
            values = _read_yaml(block)
            if values is None:
                values = _read_lines(block)
            return FrontMatter(values=values, body_start=index + 1, present=True)
    return FrontMatter()


def _too_deep(block: str) -> bool:
    depth = 0
    for ch in block:
        if ch in "[{":
            depth += 1
            if depth > YAML_MAX_DEPTH:
                return True
        elif ch in "]}":
            depth = max(0, depth - 1)
    return False


def _read_yaml(block: str) -> dict[str, str] | None:
    """Top-level scalar values, or None when the block is not a YAML mapping."""
    if len(block) > YAML_MAX_CHARS or _too_deep(block):
        return None
    try:
        node = yaml.compose(block, Loader=yaml.SafeLoader)  # noqa: S506 - SafeLoader, compose only
    except Exception:  # any YAML error (or recursion): fall back to line reading
        return None
    if not isinstance(node, yaml.MappingNode):
        return None
    values: dict[str, str] = {}
    for key, value in node.value:
        if (
            isinstance(key, yaml.ScalarNode)
            and isinstance(value, yaml.ScalarNode)
            and value.tag != "tag:yaml.org,2002:null"
        ):
            values.setdefault(str(key.value).strip().lower(), str(value.value))
    return values


def _read_lines(block: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in block.split("\n"):
        match = _KEY_VALUE.match(line)
        if not match:
            continue
        value = match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values.setdefault(match.group(1).lower(), value)
    return values
