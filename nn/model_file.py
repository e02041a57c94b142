"""Model files: JSON text, never pickle, written atomically and checked whole on load.

A file holds a format name and version, the model's architecture, every parameter by
name, and a SHA-256 checksum of the architecture and parameters. Loading reads nothing
into the model until every check has passed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

from autodiff.files import write_atomically

FORMAT = "autodiff.nn model"
VERSION = 1
_BASE_SIZE, _BYTES_PER_PARAMETER = 1 << 20, 256  # far above what a real file needs


def save(path: str | os.PathLike, architecture: dict[str, Any], state: dict[str, float]) -> None:
    """Write ``architecture`` and ``state`` to ``path`` atomically; refuse non-finite numbers."""
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
    write_atomically(path, json.dumps(document, indent=1) + "\n")


def load(path: str | os.PathLike, architecture: dict[str, Any], parameter_count: int) -> dict[str, float]:
    """The parameters of the model file at ``path``, after checking everything about it.

    Raises ``ValueError`` naming the first problem: too large, not JSON (truncated,
    empty, binary such as a pickle), not a model file, another format version, a
    checksum that does not match, another architecture, a name given twice.
    """
    path = Path(path)
    limit = _BASE_SIZE + _BYTES_PER_PARAMETER * parameter_count
    size = path.stat().st_size
    if size > limit:
        raise ValueError(f"{path} is {size:,} bytes, more than a model file of this architecture can be ({limit:,})")
    raw = path.read_bytes()
    try:
        document = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a model file: it is binary, not JSON text (model files are never pickles)") from None
    except json.JSONDecodeError as error:
        what = "empty" if not raw.strip() else f"not valid JSON ({error.msg} at line {error.lineno}, column {error.colno}; is it truncated?)"
        raise ValueError(f"{path} is not a model file: it is {what}") from None
    except ValueError as error:  # from the hooks: a name given twice, NaN or Infinity
        raise ValueError(f"{path} is not a valid model file: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{path} is not a model file: it has no \"format\": \"{FORMAT}\" field")
    if document.get("version") != VERSION:
        raise ValueError(f"{path} is model file version {document.get('version')!r}; this library reads version {VERSION}")
    for field, kind in (("architecture", dict), ("parameters", dict), ("checksum", str)):
        if not isinstance(document.get(field), kind):
            raise ValueError(f"{path} is damaged: its {field!r} field is missing or not a {kind.__name__}")
    if document["checksum"] != _checksum(document["architecture"], document["parameters"]):
        raise ValueError(f"{path} is damaged: its checksum does not match its contents")
    if document["architecture"] != architecture:
        raise ValueError(
            f"{path} holds a model of another architecture: the file has {document['architecture']}, "
            f"this model is {architecture}"
        )
    return document["parameters"]


def _checksum(architecture: dict[str, Any], state: dict[str, Any]) -> str:
    canonical = json.dumps([architecture, state], sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the model file names {key!r} twice")
        result[key] = value
    return result


def _no_constants(name: str) -> None:
    raise ValueError(f"the model file holds {name}; model files hold finite numbers only")
