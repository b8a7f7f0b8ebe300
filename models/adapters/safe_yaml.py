"""Load a user-supplied YAML file (a program's mapping.yaml) as plain data, without aliases.

`yaml.safe_load` builds no Python objects, but it still expands aliases: nine anchors of
nine aliases each (about 20 lines) stand for hundreds of millions of items, and whatever walks
or formats the value (an error message, say) exhausts memory. A mapping has no use for anchors
and aliases, so the loader below refuses both while composing the document, before anything is
expanded, naming the line of the first one.
"""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Any

import yaml

# How much of a value an error message may echo.
ECHO_CHARS = 80

_echo = reprlib.Repr()
_echo.maxstring = ECHO_CHARS
_echo.maxother = ECHO_CHARS
_echo.maxlist = _echo.maxdict = _echo.maxtuple = _echo.maxset = 6
_echo.maxlevel = 2


def short(value: object, limit: int = ECHO_CHARS) -> str:
    """repr(value) for an error message, at most about `limit` characters. Never builds the
    full repr of a large value (reprlib stops at a few items and levels)."""
    text = _echo.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class YamlAliasError(yaml.YAMLError):
    """The document uses an anchor (&name) or an alias (*name)."""

    def __init__(self, line: int) -> None:
        self.line = line
        super().__init__(f"line {line}: YAML anchors and aliases (&name / *name) are not allowed")


# A mapping.yaml nests five or six levels; PyYAML composes recursively, so 50,000 nested
# brackets end in RecursionError. Deeper than this is refused with the line.
MAX_DEPTH = 64


class YamlNestingError(yaml.YAMLError):
    """The document nests deeper than MAX_DEPTH."""

    def __init__(self, line: int) -> None:
        self.line = line
        super().__init__(f"line {line}: nested more than {MAX_DEPTH} levels deep")


class NoAliasSafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases when it meets them in the event stream,
    before any node is built or expanded, and documents nested deeper than MAX_DEPTH."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: ANN401 - PyYAML's signature
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise YamlAliasError(event.start_mark.line + 1)
        if self._depth >= MAX_DEPTH:
            raise YamlNestingError(event.start_mark.line + 1)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_plain_yaml(path: Path) -> Any:  # noqa: ANN401 - any YAML value
    """The single document of `path` (UTF-8, an optional BOM) as plain data.

    Raises YamlAliasError for an anchor or alias, other yaml.YAMLError subclasses for invalid
    YAML or object-building tags, OSError / UnicodeDecodeError when the file cannot be read.
    """
    with open(path, encoding="utf-8-sig") as handle:
        loader = NoAliasSafeLoader(handle)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
