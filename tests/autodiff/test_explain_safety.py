"""explain and hostile labels: each form shows a label as text, and only as text.

Three readers, three checks, none of them trusting the escaping under test:
- str(): every character printable (a terminal runs none), the label shown in the
  escaped form Python's own repr() gives.
- the LaTeX: read with TeX's rules by a small reader written here (control sequences,
  groups, the spaces TeX skips): every command is one of the template's, and each
  \\mathrm{...} reads back as exactly the label's text.
- the Markdown: the notes contain no character Markdown reads as markup, decode to
  the text of str(); the whole document, read by a real HTML tokenizer as a renderer
  that passed everything through would, holds no element but the template's.
"""

import html
import html.parser
import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff
from autodiff import Value

HANDWRITTEN = [
    # HTML and script, the way a notebook would run them
    "<img src=x onerror=document.title='PWNED'>", "<script>alert(1)</script>", "<!--", "-->",
    "<svg/onload=alert(1)>", "</div><script>alert(1)</script>", '"><b>x</b>', "&lt;b&gt;", "&amp;",
    "<style>*{display:none}</style>", "<iframe src=javascript:alert(1)>", "<a href='javascript:alert(1)'>x</a>",
    # Markdown: links, images, autolinks, code, emphasis, headings, tables, references
    "[click](javascript:alert(1))", "![x](http://evil.example/x.png)", "<http://evil.example>",
    "https://evil.example", "www.evil.example", "mail@evil.example", "[x]: javascript:alert(1)", "[x]",
    "`code`", "```", "*emphasis*", "__strong__", "~~struck~~", "# heading", "| a | b |", "|---|---|",
    "- item", "1. item", "> quote", "\\*", "\\", "\\\\", "@@0@@", "~T", "~D",
    # LaTeX, MathJax and KaTeX: closing the math, commands, groups, comments
    "$$", "$", "$$<img src=x onerror=alert(1)>$$", "\\href{javascript:alert(1)}{click}", "\\def\\x{y}\\x",
    "\\input{/etc/passwd}", "\\url{javascript:alert(1)}", "\\\\", "}{", "}", "{", "%", "#1", "^", "~", "&",
    "_", "\\begin{align}x\\end{align}", "\\(x\\)", "\\[x\\]", "\\)", "\\]", "\\end{document}", "\\text{$x$}",
    "\\mathrm{", "}\\href{javascript:alert(1)}{x}\\mathrm{", "\\unicode{x41}", "\\require{html}",
    "\\class{x}{y}", "\\style{color:red}{x}", "\\verb|x|", "\\$", "\\{", "a/db", "d · e", "x · d/dy",
    # terminal: escape sequences, OSC 8 hyperlinks, overwriting, bidi
    "\x1b[2J\x1b[H", "\x1b[31mred", "\x1b]8;;http://evil.example\x1b\\text\x1b]8;;\x1b\\", "\x1b]0;title\x07",
    "safe\rEVIL", "abc\b\b\bxyz", "\x9b31m", "\u202egnp.exe", "x\u2066y\u2069", "a\u200bb", "\ufeff",
    "line\nbreak\n\n# heading", "a\u2028b\u2029c", "tab\there", "\x00nul", "\x7f", "\ud800", "\udfff",
    "w" * 5000, "",
]
CONTROLS = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]]
INVISIBLE = ["\u061c", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067",
             "\u2068", "\u2069", "\u00ad", "\u2060", "\U000e0001"]
PUNCTUATION = [c for c in string.punctuation] + [f"a{c}b{c}" for c in string.punctuation]
HOSTILE = list(dict.fromkeys(HANDWRITTEN + CONTROLS + INVISIBLE + PUNCTUATION))


def shown(label):
    """The label as a terminal should show it: Python's repr() of each unprintable character."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in label)


def graph(label):
    """The label as the node derived, a junction, a factor in a note, and the output."""
    w, x = Value(0.5, label=label), Value(2.0, label="x")
    z = w * x
    z.label = label
    a = z.tanh()
    a.label = "a"
    out = a * z + a
    out.label = label
    return out, w


def explanations(label):
    out, w = graph(label)
    return [autodiff.explain(out, w, steps=steps) for steps in (1, 6)]


# ---- str(): nothing a terminal would act on ----

def check_text(text, label):
    assert all(c.isprintable() for line in text.split("\n") for c in line), ascii(text)
    if label:
        assert shown(label) in text


@pytest.mark.parametrize("label", HOSTILE, ids=lambda s: ascii(s)[:40])
def test_str_shows_control_characters_as_escapes(label):
    for explanation in explanations(label):
        check_text(str(explanation), label)


# ---- LaTeX: only the template's commands; each label reads back as its text ----

TEMPLATE_COMMANDS = {"frac", "partial", "mathrm", "cdot", "times", "cdots"}
# what each escape inside \mathrm{} draws, by TeX's rules (written here, not imported)
DRAWN = {"_": "_", "$": "$", "%": "%", "#": "#", "&": "&", "{": "{", "}": "}", " ": " ",
         "backslash": "\\", "lt": "<", "gt": ">", "vert": "|", "ast": "*", "lbrack": "[", "rbrack": "]",
         "sim": "~", "cdot": "·"}
ACCENTED = {"hat": "^", "grave": "`"}  # \hat{\ } draws a circumflex, \grave{\ } a backtick
TEX_SPECIALS = set("$%#&^_~\\{}")


def tex_tokens(tex):
    """TeX's tokens: ("cs", name) for a control sequence, ("char", c) otherwise; the
    spaces after a control word are skipped, as TeX does."""
    tokens, i = [], 0
    while i < len(tex):
        if tex[i] == "\\":
            match = re.match(r"\\([A-Za-z]+ *|.)", tex[i:], re.S)
            assert match, f"a lone backslash at the end: {tex!r}"
            tokens.append(("cs", match.group(1).rstrip(" ") or " "))
            i += match.end()
        else:
            tokens.append(("char", tex[i]))
            i += 1
    return tokens


def read_group(tokens, i):
    """The tokens of the group that opens at tokens[i], and the index after it."""
    assert tokens[i] == ("char", "{"), tokens[i:i + 3]
    depth, j = 0, i
    while True:
        kind, value = tokens[j]
        if kind == "char" and value == "{":
            depth += 1
        elif kind == "char" and value == "}":
            depth -= 1
            if depth == 0:
                return tokens[i + 1:j], j + 1
        j += 1
        assert j < len(tokens), "a group that never closes"


def drawn_text(tokens):
    """What a \\mathrm{} group draws, read with TeX's rules; fails on anything but text."""
    out, i = [], 0
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "cs" and value in DRAWN:
            out.append(DRAWN[value])
            i += 1
        elif kind == "cs" and value in ACCENTED:
            group, i = read_group(tokens, i + 1)
            assert group == [("cs", " ")], group
            out.append(ACCENTED[value])
        elif kind == "char" and value in "{}":  # a group such as {:} only changes the spacing
            i += 1
        elif kind == "char" and value == " ":  # math mode skips spaces
            i += 1
        else:
            assert kind == "char" and value not in TEX_SPECIALS, (kind, value)
            out.append(value)
            i += 1
    return "".join(out)


def names_in_latex(line):
    """Every \\mathrm{} of an equation, read back; asserts the rest is the template's."""
    assert line.startswith("$$ ") and line.endswith(" $$")
    tokens = tex_tokens(line[3:-3])
    names, i = [], 0
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "cs":
            assert value in TEMPLATE_COMMANDS, f"a command the template does not write: \\{value}"
            if value == "mathrm":
                group, i = read_group(tokens, i + 1)
                names.append(drawn_text(group))
                continue
        else:
            assert value not in TEX_SPECIALS - set("{}"), f"an unescaped {value!r} in {line!r}"
        i += 1
    depth = 0
    for kind, value in tokens:
        depth += (kind, value) == ("char", "{")
        depth -= (kind, value) == ("char", "}")
        assert depth >= 0
    assert depth == 0
    return names


def check_latex(markdown, label):
    equations = [line for line in markdown.split("\n") if line.startswith("$$")]
    assert equations
    names = {name for line in equations for name in names_in_latex(line)}
    if label:
        assert shown(label) in names
    # graph() gives three nodes the label (four when it is "a"): the others are told
    # apart by #2, #3, ...
    assert names <= {shown(label), "x", "a", "out", "u1", "u2", "u3"} | {f"{shown(label)}#{k}" for k in (2, 3, 4)}, names
    for line in equations:  # nothing a Markdown renderer without math reads as markup
        assert not set(line) & set("<>[]`*|~"), line  # "!" is only an image before "["


@pytest.mark.parametrize("label", HOSTILE, ids=lambda s: ascii(s)[:40])
def test_latex_holds_a_label_only_as_literal_text(label):
    for explanation in explanations(label):
        check_latex(explanation._repr_markdown_(), label)


# ---- Markdown: the notes are text; no element comes from a label ----

class Elements(html.parser.HTMLParser):
    """Every element, comment and declaration an HTML reader finds, and the text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.found.append((tag, attrs))

    def handle_comment(self, data):
        self.found.append(("comment", data))

    def handle_decl(self, decl):
        self.found.append(("decl", decl))

    def handle_pi(self, data):
        self.found.append(("pi", data))

    def unknown_decl(self, data):
        self.found.append(("unknown", data))

    def handle_data(self, data):
        self.text.append(data)


def check_markdown(explanation, label):
    markdown = explanation._repr_markdown_()
    lines = markdown.split("\n")
    notes = [line for line in lines if line.startswith("- ")]
    decoded = [html.unescape(note[2:]) for note in notes]
    assert decoded == explanation.notes == str(explanation).split("\n\n", 1)[1].split("\n")  # the same text
    assert not label or any(shown(label) in note for note in decoded)
    rest = [line for line in lines if not line.startswith(("- ", "$$"))]
    assert rest == ["", '<div class="tex2jax_ignore mathjax_ignore">', "", "", "</div>"]
    assert_notes_are_text([note[2:] for note in notes], markdown)


def assert_notes_are_text(notes: list[str], markdown: str) -> None:
    """Each Markdown note holds only text (character references aside, no character
    Markdown or a link finder reads), and the whole makes no element but the template's div."""
    for note in notes:
        body = re.sub(r"&#\d+;", "", note)  # the character references are text
        assert not set(body) & set("<>&\\`*_[]!~|$#"), note
        assert not re.search(r"https?:|www\.|@", body), note
    reader = Elements()
    reader.feed(markdown)
    reader.close()
    assert reader.found == [("div", [("class", "tex2jax_ignore mathjax_ignore")])]


@pytest.mark.parametrize("label", HOSTILE, ids=lambda s: ascii(s)[:40])
def test_markdown_notes_are_text_and_make_no_element(label):
    for explanation in explanations(label):
        check_markdown(explanation, label)


# ---- any label at all ----

any_character = st.characters(exclude_categories=()) | st.sampled_from(
    sorted(set(string.punctuation) | set(CONTROLS) | set(INVISIBLE)))


@settings(max_examples=300, deadline=None)
@given(st.text(any_character, max_size=30))
def test_any_label_is_shown_as_text_in_every_form(label):
    for explanation in explanations(label):
        check_text(str(explanation), label)
        check_latex(explanation._repr_markdown_(), label)
        check_markdown(explanation, label)


def test_the_latex_reader_of_these_tests_refuses_commands_and_broken_groups():
    with pytest.raises(AssertionError):
        names_in_latex(r"$$ \frac{\partial \mathrm{a}}{\partial \mathrm{b}} = \href{javascript:x}{y} $$")
    with pytest.raises(AssertionError):
        names_in_latex(r"$$ \mathrm{a}}{ $$")
    with pytest.raises(AssertionError):
        names_in_latex(r"$$ \mathrm{a $$ b} $$")
    assert names_in_latex(r"$$ \mathrm{a\_b\ \backslash c\hat{\ }{:}} $$") == ["a_b \\c^:"]


def test_a_label_assigned_later_is_shown_as_text_whatever_its_type():
    class Sneaky(str):  # a str that would hand the escaping other characters
        def __iter__(self):
            return iter("safe")

    w = Value(1.0, label="w")
    y = w * 2
    y.label, w.label = ("a", 1), Sneaky("\x1b[2J<b>")
    explanation = autodiff.explain(y, w)
    check_text(str(explanation), "\x1b[2J<b>")
    assert "('a', 1)" in str(explanation)
    markdown = explanation._repr_markdown_()
    names = {name for line in markdown.split("\n") if line.startswith("$$") for name in names_in_latex(line)}
    assert names == {"('a', 1)", shown("\x1b[2J<b>")}
