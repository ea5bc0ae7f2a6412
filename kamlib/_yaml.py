"""The one YAML reader for the kit's settings files (``kam.yaml``, report configs).

:func:`load_yaml` reads YAML as people write it and bounds what a file can make
the kit do:

* ``yes``, ``no``, ``on``, ``off``, ``ja`` stay text; only ``true``/``false`` are
  booleans (as in YAML 1.2);
* only plain data (``SafeLoader``): no ``!!python`` tags;
* a key repeated in one mapping is refused, naming the key and both lines (PyYAML
  would silently keep the last);
* a file over :data:`MAX_BYTES`, more than :data:`MAX_ALIASES` aliases (``*name``),
  a document that would expand to more than :data:`MAX_NODES` values through
  aliases (a "billion laughs" bomb), a recursive alias or nesting deeper than
  :data:`MAX_DEPTH` is refused while the file is composed, before anything is built;
* bytes are decoded as UTF-8 (a UTF-8 BOM is dropped); a UTF-16 or UTF-32 file with
  a BOM is decoded as such; NUL bytes without a BOM (UTF-16 without BOM, or not a
  text file) and bytes that are not UTF-8 (Latin-1, Windows-1252) are refused with
  the byte and line and how to save the file as UTF-8.

Every refusal is a :class:`ConfigError` (a ``ValueError``) whose message names the
file and, where there is one, the line.
"""

from __future__ import annotations

import codecs
import os
import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

__all__ = [
    "MAX_ALIASES",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "ConfigError",
    "load_yaml",
    "load_yaml_file",
]

#: Largest settings file read (bytes); real ones are a few kilobytes.
MAX_BYTES = 1_000_000
#: Most aliases (``*name``) in one file.
MAX_ALIASES = 200
#: Most values a document may hold once every alias is expanded.
MAX_NODES = 100_000
#: Deepest nesting of lists and mappings.
MAX_DEPTH = 50

_QUOTE_HINT = (
    'put quotes around values with special characters, e.g. `decimal: ","`, '
    '`delimiter: ";"`, `date_format: "%d.%m.%Y"`; indent with spaces, not tabs'
)
_SAVE_UTF8 = "save it as UTF-8 (in Notepad: Save as, Encoding UTF-8)"


class ConfigError(ValueError):
    """A settings file that cannot be read.

    Attributes
    ----------
    message : str
        What is wrong, naming the file and the line.
    hint : str
        How to fix it.
    source : str
        The file, as the user named it.
    line : int or None
        1-based line number, when the problem has one.
    """

    def __init__(self, message: str, *, source: str, line: int | None = None, hint: str = ""):
        self.message = message
        self.hint = hint
        self.source = source
        self.line = line
        super().__init__(message + (f"\n   Fix: {hint}" if hint else ""))


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _decode(data: bytes, source: str) -> str:
    """``data`` as text: UTF-8 (BOM dropped) or UTF-16/32 with a BOM; else ConfigError."""
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise ConfigError(
                    f"{source} is saved as {encoding.upper()} but cannot be decoded "
                    f"(byte {exc.start}).",
                    source=source,
                    hint=_SAVE_UTF8,
                ) from None
    if b"\x00" in data:
        at = data.index(b"\x00")
        raise ConfigError(
            f"{source} holds NUL bytes (first at byte {at}, line {_line_of(data, at)}): it is "
            "saved as UTF-16 (without BOM) or is not a text file.",
            source=source,
            line=_line_of(data, at),
            hint=_SAVE_UTF8,
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        raise ConfigError(
            f"{source} is not UTF-8 (byte {exc.start}, line {line}: "
            f"{data[exc.start : exc.start + 1]!r}); it looks saved as Latin-1 or Windows-1252.",
            source=source,
            line=line,
            hint=_SAVE_UTF8,
        ) from None


class _Loader(yaml.SafeLoader):
    """YAML as people write it, within bounds (see the module docstring).

    PyYAML follows YAML 1.1, where unquoted ``yes``/``no`` are booleans; in
    ``true_values: [yes, ja]`` that would silently turn "yes" into "true". Only
    ``true`` and ``false`` are booleans here (as in YAML 1.2).
    """

    def __init__(self, stream: str, source: str):
        super().__init__(stream)
        self.source = source
        self._aliases = 0
        self._depth = 0
        self._sizes: dict[Any, int] = {}
        self._duplicates: list[tuple[str, int, int]] = []
        self._checked: set[Any] = set()

    def _refuse(self, what: str, mark: Any, hint: str) -> ConfigError:
        line = mark.line + 1 if mark is not None else None
        at = f", line {line}" if line else ""
        return ConfigError(f"{self.source}{at}: {what}", source=self.source, line=line, hint=hint)

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Compose as PyYAML does, counting aliases, depth and the expanded size."""
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise self._refuse(
                    f"more than {MAX_ALIASES} YAML aliases (*{event.anchor}); settings files do "
                    "not need that many.",
                    event.start_mark,
                    "write the values out instead of repeating them with &anchor / *alias",
                )
            target = self.anchors.get(event.anchor)
            if target is not None and target not in self._sizes:
                raise self._refuse(
                    f"the alias *{event.anchor} refers to the value that contains it "
                    "(a recursive alias).",
                    event.start_mark,
                    "write the value out instead of referring to itself",
                )
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise self._refuse(
                f"values nested more than {MAX_DEPTH} levels deep.",
                self.peek_event().start_mark,
                "settings files need only a few levels of nesting",
            )
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if isinstance(node, SequenceNode):
            size = 1 + sum(self._sizes[child] for child in node.value)
        elif isinstance(node, MappingNode):
            size = 1 + sum(self._sizes[k] + self._sizes[v] for k, v in node.value)
        else:
            size = 1
        if size > MAX_NODES:
            raise self._refuse(
                f"this value expands to more than {MAX_NODES:,} values through YAML aliases "
                "(an alias bomb?).",
                node.start_mark,
                "write the values out instead of repeating them with &anchor / *alias",
            )
        self._sizes[node] = size
        return node

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        """Build a mapping, noting keys written twice (merge keys ``<<`` may override)."""
        if isinstance(node, MappingNode) and node not in self._checked:
            self._checked.add(node)
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if (
                    not isinstance(key_node, ScalarNode)
                    or key_node.tag == "tag:yaml.org,2002:merge"
                ):
                    continue
                key = self.construct_object(key_node)
                line = key_node.start_mark.line + 1
                try:
                    if key in seen:
                        self._duplicates.append((str(key), seen[key], line))
                    else:
                        seen[key] = line
                except TypeError:
                    continue  # unhashable keys are refused by PyYAML itself
        return super().construct_mapping(node, deep=deep)

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        """Build a value; an impossible date or a 5,000-digit number names its line."""
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise self._refuse(
                f"cannot read the value {str(node.value)[:40]!r} ({exc}).",
                node.start_mark,
                "put quotes around it to keep it as text",
            ) from None


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
for _first in "tTfF":
    _Loader.yaml_implicit_resolvers.setdefault(_first, []).insert(
        0,
        (
            "tag:yaml.org,2002:bool",
            re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        ),
    )


def load_yaml(text_or_bytes: str | bytes, *, source: str) -> Any:
    """Read one YAML document of settings, within bounds.

    Parameters
    ----------
    text_or_bytes : str or bytes
        The file's content; bytes are decoded (UTF-8, or UTF-16/32 with a BOM).
    source : str
        The file as the user named it, for messages.

    Returns
    -------
    object
        The document (``None`` for an empty file): dicts, lists, str, int, float,
        bool, None and dates.

    Raises
    ------
    ConfigError
        Naming the file, the line and the fix: too large, not UTF-8, not valid
        YAML, a repeated key, too many aliases or an alias bomb, nested too deep.
    """
    size = len(text_or_bytes)
    if size > MAX_BYTES:
        raise ConfigError(
            f"{source} is larger than the {MAX_BYTES:,} "
            f"{'bytes' if isinstance(text_or_bytes, bytes) else 'characters'} a settings file "
            "may have.",
            source=source,
            hint="is this the right file? kam.yaml and report configs are a few lines",
        )
    text = _decode(text_or_bytes, source) if isinstance(text_or_bytes, bytes) else text_or_bytes
    loader = _Loader(text.removeprefix("\ufeff"), source)
    try:
        try:
            data = loader.get_single_data()
        except RecursionError:
            raise ConfigError(
                f"{source}: values nested too deep.", source=source, hint=_QUOTE_HINT
            ) from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ConfigError(
                f"{source}: not valid YAML{at} ({what}).",
                source=source,
                line=mark.line + 1 if mark else None,
                hint=_QUOTE_HINT,
            ) from None
    finally:
        loader.dispose()
    if loader._duplicates:
        repeated = "; ".join(
            f"{key!r} on lines {first} and {line}"
            if first != line
            else f"{key!r} twice on line {line}"
            for key, first, line in loader._duplicates[:5]
        )
        more = len(loader._duplicates) - 5
        raise ConfigError(
            f"{source}: a key is written twice in the same place ({repeated}"
            + (f" … ({more} more)" if more > 0 else "")
            + "); YAML would silently keep only the last.",
            source=source,
            line=loader._duplicates[0][2],
            hint="keep one of them (or indent it under the table or setting it belongs to)",
        )
    return data


def load_yaml_file(path: str | os.PathLike[str], *, source: str | None = None) -> Any:
    """Read a settings file with :func:`load_yaml`, reading at most ``MAX_BYTES + 1`` bytes.

    Parameters
    ----------
    path : str or path-like
        The file.
    source : str, optional
        How messages name it; default ``str(path)``.

    Returns
    -------
    object
        As :func:`load_yaml`.

    Raises
    ------
    ConfigError
        As :func:`load_yaml`, or when the file cannot be opened or read.
    """
    source = str(path) if source is None else source
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)  # one byte more is enough to refuse it
    except OSError as exc:
        raise ConfigError(
            f"{source}: cannot be read ({exc.strerror or exc}).",
            source=source,
            hint="check that the file exists, is a file, and that you may read it",
        ) from None
    return load_yaml(data, source=source)
