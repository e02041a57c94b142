"""How a user's string (a label, a module name) is shown: as text a reader can see.

Every output of ``viz`` (DOT, SVG, the step-through page) shows a string through
``visible`` first, then escapes it for the reader that parses it (see ``graph.py`` and
``steps.py``). ``visible`` turns each character that would be invisible, would move
other text, or that SVG and XML cannot hold into the escape Python writes for it:
control characters (``\\n``, ``\\x01``), lone surrogates (``\\ud800``), the two
non-characters XML forbids (``\\uffff``), line and paragraph separators, and the
bidirectional controls that can make a label read as other text (``\\u202e``). Every
other character, a backslash included, is shown as itself.
"""

from __future__ import annotations

_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
_BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_HIDDEN = [*range(0x20), *range(0x7F, 0xA0), *range(0xD800, 0xE000), 0x2028, 0x2029, 0xFFFE, 0xFFFF, *_BIDI]
_ESCAPES = {code: _NAMED.get(chr(code)) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}") for code in _HIDDEN}


def visible(text: object) -> str:
    """``text`` as a reader sees it: invisible and unencodable characters as escapes.

    Not a string (a label set to a number after the fact)? Its ``str()``.

    >>> visible("a\\x00b\\n\\ud800 x\\\\.w")
    'a\\\\x00b\\\\n\\\\ud800 x\\\\.w'
    >>> print(visible("a\\x00b\\n\\ud800 x\\\\.w"))
    a\\x00b\\n\\ud800 x\\.w
    """
    return (text if isinstance(text, str) else str(text)).translate(_ESCAPES)


def shortened(text: str, limit: int) -> str:
    """``text`` cut to its first ``limit`` characters, saying how much was left out.

    >>> shortened("abcdef", 3)
    'abc… (3 more characters)'
    >>> shortened("abc", 3)
    'abc'
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"
