"""A message kept in its original words and parameters, read in the reader's language.

What is stored (a last connection check) or cached (a compiled rule's error) outlives the
request it was written in; a `Phrase` is translated only when it is read. Its text is a
msgid of our catalogues, marked with `gettext_noop` where it is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext

from backoffice.money import format_number


@dataclass(frozen=True)
class Phrase:
    text: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        translated = gettext(self.text)
        if not self.params:
            return translated
        return translated % {name: _read(value) for name, value in self.params.items()}

    def as_json(self) -> dict[str, Any]:
        """What the database keeps: the text and its parameters, phrases within as phrases."""
        return {
            "text": self.text,
            "params": {
                name: value.as_json() if isinstance(value, Phrase) else value
                for name, value in self.params.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Phrase:
        return cls(
            text=str(data.get("text", "")),
            params={
                name: cls.from_json(value) if isinstance(value, dict) else value
                for name, value in (data.get("params") or {}).items()
            },
        )


def _read(value: Any) -> Any:
    # Phrases within are read in the same language; numbers are written as it writes them
    # (10.000 in German, 10,000 in English), so texts take every parameter as %(name)s.
    if isinstance(value, Phrase):
        return str(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_number(value)
    return value
