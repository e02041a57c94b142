"""Model files: JSON text, never pickle, written atomically and checked whole on load.

A file holds a format name and version, the model's architecture, every parameter by
name, and a SHA-256 checksum of the architecture and parameters. Loading reads only a
regular file of bounded size (``size_limit``), turns every fault of its content into a
``ValueError``, and reads nothing into the model until every check has passed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from typing import Any

from autodiff.files import read_regular_file, write_atomically

FORMAT = "autodiff.nn model"
VERSION = 1
_BASE_SIZE, _BYTES_PER_PARAMETER = 1 << 20, 256  # far above what a real file needs
_MAX_DEPTH = 32  # a model file nests 3 levels (document, architecture, a list in it)
_MAX_INTEGER = 2**53  # beyond it integers are not exact in every JSON reader (RFC 7493)
_BOM = b"\xef\xbb\xbf"


def size_limit(parameter_count: int) -> int:
    """The most bytes a model file of ``parameter_count`` parameters may hold: 1 MiB plus
    256 bytes per parameter. ``load`` reads no more than this, ``save`` writes no more.

    >>> size_limit(17)
    1052928
    """
    return _BASE_SIZE + _BYTES_PER_PARAMETER * parameter_count


def save(path: str | os.PathLike, architecture: dict[str, Any], state: dict[str, float]) -> None:
    """Write ``architecture`` and ``state`` to ``path`` atomically; refuse non-finite numbers
    and anything ``load`` would refuse to read back."""
    for name, number in state.items():
        if not math.isfinite(number):
            raise ValueError(f"cannot save: parameter {name!r} is {number!r}; model files hold finite numbers only")
    document = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": architecture,
        "parameters": state,
        "checksum": _checksum(architecture, state),
    }
    text = json.dumps(document, indent=1) + "\n"
    size, limit = len(text.encode("utf-8")), size_limit(len(state))
    if size > limit:
        raise ValueError(f"cannot save: the file would be {size:,} bytes, more than a model file may be ({limit:,})")
    try:  # the parameters are finite floats by now; the architecture is the model's to choose
        _parse(json.dumps({"architecture": architecture}).encode("utf-8"))
    except ValueError as error:
        raise ValueError(f"cannot save: the file could not be loaded again: {error}") from None
    write_atomically(path, text)


def load(path: str | os.PathLike, architecture: dict[str, Any], parameter_count: int) -> dict[str, float]:
    """The parameters of the model file at ``path``, after checking everything about it.

    Reads only a regular file (a symbolic link to one is followed), of at most
    ``size_limit(parameter_count)`` bytes. Raises ``ValueError`` naming the first
    problem: not a regular file (a device, FIFO, socket, folder), too large, not JSON
    text (empty, truncated, binary such as a pickle, not UTF-8, a byte-order mark),
    nested too deeply, a number that is not a finite float or an integer within
    ±2**53, a name given twice, not a model file, another format version, a checksum
    that does not match, another architecture, a parameter that is not a number
    (``true`` is not 1). ``OSError`` if the file cannot be opened (missing,
    permission, a loop of links).
    """
    raw = read_regular_file(path, size_limit(parameter_count))
    try:
        document = _parse(raw)
    except ValueError as error:
        raise ValueError(f"{os.fspath(path)} is not a model file: {error}") from None
    try:
        return _parameters(document, architecture)
    except ValueError as error:
        raise ValueError(f"{os.fspath(path)} {error}") from None


def _parse(raw: bytes) -> Any:
    """The JSON document in ``raw``; ``ValueError`` for anything but plain finite JSON."""
    if raw.startswith(_BOM):
        raise ValueError("it starts with a byte-order mark; model files are UTF-8 without one")
    if b"\x00" in raw:
        raise ValueError(
            "it is binary, not JSON text (it holds NUL bytes: UTF-16 text, or a pickle? model files are never pickles)"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        where = f"not UTF-8 at byte {error.start:,}"
        raise ValueError(f"it is binary, not JSON text ({where}; model files are never pickles)") from None
    if not text.strip():
        raise ValueError("it is empty")
    try:
        document = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constants,
            parse_int=_bounded_integer,
            parse_float=_finite_float,
        )
    except RecursionError:
        limit = f"a model file nests {_MAX_DEPTH} levels at most"
        raise ValueError(f"it is nested more deeply than the parser can follow ({limit})") from None
    except json.JSONDecodeError as error:
        where = f"{error.msg} at line {error.lineno}, column {error.colno}"
        raise ValueError(f"it is not valid JSON ({where}; is it truncated?)") from None
    depth = _depth(document)
    if depth > _MAX_DEPTH:  # refused before anything walks it recursively
        raise ValueError(f"it is nested {depth} levels deep; a model file nests {_MAX_DEPTH} levels at most")
    return document


def _parameters(document: Any, architecture: dict[str, Any]) -> dict[str, float]:
    """The parameters of a parsed model file that matches ``architecture``; a ``ValueError``
    message completes "<path> ..."."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f'is not a model file: it has no "format": "{FORMAT}" field')
    version = document.get("version")
    if type(version) is not int or version != VERSION:  # true == 1 and 1.0 == 1 in Python
        raise ValueError(f"is model file version {_shown(version)}; this library reads version {VERSION}")
    for field, kind in (("architecture", dict), ("parameters", dict), ("checksum", str)):
        if not isinstance(document.get(field), kind):
            raise ValueError(f"is damaged: its {field!r} field is missing or not a {kind.__name__}")
    if document["checksum"] != _checksum(document["architecture"], document["parameters"]):
        raise ValueError("is damaged: its checksum does not match its contents")
    if _canonical(document["architecture"]) != _canonical(architecture):  # types count: true is not 1
        raise ValueError(
            f"holds a model of another architecture: the file has {_shown(document['architecture'], 400)}, "
            f"this model is {architecture}"
        )
    numbers = {}
    for name, number in document["parameters"].items():
        if type(number) not in (int, float):  # bool is an int to Python, not to a model file
            raise ValueError(f"is damaged: parameter {_shown(name)} is {_shown(number)}, not a number")
        numbers[name] = float(number)
    return numbers


def _checksum(architecture: dict[str, Any], state: dict[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(_canonical([architecture, state]).encode("utf-8")).hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _depth(value: Any) -> int:
    """How many containers deep ``value`` nests, found level by level, without recursion."""
    depth, level = 0, [value] if isinstance(value, (dict, list)) else []
    while level:
        depth += 1
        level = [
            child
            for container in level
            for child in (container.values() if isinstance(container, dict) else container)
            if isinstance(child, (dict, list))  # numbers and strings are never held: a file may have a million
        ]
    return depth


def _shown(value: Any, limit: int = 60) -> str:
    """``value`` for an error message: printable ASCII only, and short (it comes from a file)."""
    return _short(ascii(value), limit)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"it names {_shown(key)} twice")
        result[key] = value
    return result


def _no_constants(name: str) -> None:
    raise ValueError(f"it holds {name}; model files hold finite numbers only")


def _bounded_integer(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > len(str(_MAX_INTEGER)) or abs(int(text)) > _MAX_INTEGER:  # int() only of short text
        shown = text if digits <= 20 else f"{text[:20]}... ({digits:,} digits)"
        raise ValueError(f"it holds the integer {shown}; model files hold integers within ±2**53")
    return int(text)


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(
            f"it holds the number {_short(text)}, too large for a float; model files hold finite numbers only"
        )
    return number
