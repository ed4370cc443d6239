"""OpenAPI generation (drf-spectacular) adjusted so the schema states what the API enforces."""

from django.core.validators import (
    MaxLengthValidator,
    MinLengthValidator,
    ProhibitNullCharactersValidator,
)
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers
from rest_framework.fields import ProhibitSurrogateCharactersValidator

# DRF's CharField refuses NUL characters (PostgreSQL cannot store them) and, by default, trims
# surrounding whitespace (Python's str.strip) before checking blankness and length; the
# patterns below say that. Whitespace is spelled out as the characters str.isspace() accepts,
# because ``\s`` means a different set in ECMA-262 regular expressions (OpenAPI's dialect).
WHITESPACE = (
    "\\t\\n\\u000b\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a"
    "\\u2028\\u2029\\u202f\\u205f\\u3000"
)
SPACE = f"[{WHITESPACE}]"
NO_NUL = "[^\\u0000]"
VISIBLE = f"[^{WHITESPACE}\\u0000]"
TEXT_PATTERN = f"^{NO_NUL}*$"


def text_pattern(*, allow_blank: bool, min_length: int | None, max_length: int | None) -> str:
    """What a trimming CharField accepts: optional whitespace around a NUL-free text that
    starts and ends with a visible character and whose length (after trimming) is within the
    limits; nothing but whitespace only where blank is allowed."""
    low = max(min_length or 1, 1)
    if max_length is not None and max_length < low:
        return f"^{SPACE}*$" if allow_blank else "^(?!)$"
    if max_length == 1:
        core = VISIBLE
    elif low <= 1:
        inner = f"{{0,{max_length - 2}}}" if max_length is not None else "*"
        core = f"{VISIBLE}(?:{NO_NUL}{inner}{VISIBLE})?"
    else:
        upper = str(max_length - 2) if max_length is not None else ""
        core = f"{VISIBLE}{NO_NUL}{{{low - 2},{upper}}}{VISIBLE}"
    return f"^{SPACE}*(?:{core}){'?' if allow_blank else ''}{SPACE}*$"


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema with three corrections about request bodies, and path and
    query text parameters that say they exclude NUL:

    - PATCH bodies keep their required fields: our views validate PATCH bodies with the full
      serializer (never ``partial=True``), so a "Patched…" component without ``required``
      would promise that ``{}`` is accepted.
    - Text fields state what DRF's CharField does with them (see ``text_pattern``): NUL is
      refused; with trimming, blankness and length are judged after trimming, so
      ``minLength``/``maxLength`` (which count the raw text) give way to one ``pattern``.
    - A nested list (``many=True``) keeps its ``min_length``/``max_length``/``allow_empty``.
    """

    _direction = None

    def _get_parameters(self):
        """Path and query text that no parameter pattern constrains yet still excludes NUL:
        config/input_guard.py refuses a NUL in any path or query value (400)."""
        parameters = super()._get_parameters()
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if (
                parameter.get("in") in ("path", "query")
                and schema.get("type") == "string"
                and not {"pattern", "enum", "format"} & set(schema)
            ):
                parameter["schema"] = {**schema, "pattern": TEXT_PATTERN}
        return parameters

    def _get_request_for_media_type(self, serializer, direction="request"):
        if self.method != "PATCH":
            return super()._get_request_for_media_type(serializer, direction)
        self.method = "PUT"  # the only PATCH-specific step upstream is making it partial
        try:
            return super()._get_request_for_media_type(serializer, direction)
        finally:
            self.method = "PATCH"

    def _map_basic_serializer(self, serializer, direction):
        outer, self._direction = self._direction, direction
        try:
            return super()._map_basic_serializer(serializer, direction)
        finally:
            self._direction = outer

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and isinstance(field, serializers.ListSerializer) and schema:
            # ``Child(many=True, min_length=…, max_length=…)``: upstream drops the bounds.
            low = field.min_length if field.min_length is not None else int(not field.allow_empty)
            if low:
                schema["minItems"] = low
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
        return schema

    def _insert_field_validators(self, field, schema):
        if self._is_request_text(field, schema):
            self._describe_text(field, schema)
        elif self._is_request_slug(field, schema):
            self._describe_slug(field, schema)
        else:
            super()._insert_field_validators(field, schema)

    def _is_request_slug(self, field, schema) -> bool:
        return (
            self._direction == "request"
            and type(field) is serializers.SlugField
            and not field.allow_unicode
            and not field.read_only
            and schema.get("type") == "string"
        )

    @staticmethod
    def _describe_slug(field, schema):
        """Letters, digits, ``-`` and ``_`` once surrounding whitespace is trimmed."""
        for key in ("minLength", "maxLength", "pattern"):
            schema.pop(key, None)
        low = max(field.min_length or 1, 1)
        high = field.max_length if field.max_length is not None else ""
        core = f"[-a-zA-Z0-9_]{{{low},{high}}}"
        around = f"{SPACE}*" if field.trim_whitespace else ""
        blank = "?" if field.allow_blank else ""
        schema["pattern"] = f"^{around}(?:{core}){blank}{around}$"

    def _is_request_text(self, field, schema) -> bool:
        standard = (MaxLengthValidator, MinLengthValidator, ProhibitNullCharactersValidator)
        return (
            self._direction == "request"
            and type(field) is serializers.CharField
            and not field.read_only
            and schema.get("type") == "string"
            and all(
                isinstance(v, (*standard, ProhibitSurrogateCharactersValidator))
                for v in field.validators
            )
        )

    @staticmethod
    def _describe_text(field, schema):
        schema.pop("minLength", None)
        if field.trim_whitespace:
            schema["pattern"] = text_pattern(
                allow_blank=field.allow_blank,
                min_length=field.min_length,
                max_length=field.max_length,
            )
            return
        schema["pattern"] = TEXT_PATTERN
        if field.max_length is not None:
            schema["maxLength"] = field.max_length
        if not field.allow_blank:
            schema["minLength"] = max(field.min_length or 1, 1)
        elif field.min_length:
            schema["anyOf"] = [{"minLength": field.min_length}, {"maxLength": 0}]
