"""Model files from an adversary: things that are not regular files, files past the size
bound, and every kind of malformed content. Each is refused with ``ValueError`` (``OSError``
for what cannot be opened), within bounded reading, and leaves the model as it was."""

import codecs
import copy
import json
import math
import os
import socket

import pytest

import nn
from nn import model_file
from tests.autodiff.test_files import counting_reads, raised_without_blocking, sizes_said_empty


@pytest.fixture
def model():
    # every integer of its architecture is 1, so that `true` (== 1 in Python) has a chance
    return nn.MLP(1, [1, 1], seed=0)


@pytest.fixture
def saved(model, tmp_path):
    path = tmp_path / "model.json"
    model.save(path)
    return path


@pytest.fixture
def document(saved):
    return json.loads(saved.read_text())


def numbers_of(model):
    return [repr(p.data) for p in model.parameters()]  # repr: -0.0 and 0.0 differ


def check_refused(model, path, message, error=ValueError):
    """``model.load(path)`` raises ``error`` matching ``message``, says so in printable
    text, and leaves ``model`` unchanged."""
    before = numbers_of(model)
    with pytest.raises(error, match=message) as raised:
        model.load(path)
    assert str(raised.value).isprintable()
    assert numbers_of(model) == before
    return raised.value


def write(path, document, *, checksum=True, tokens=()):
    """Write ``document`` as a model file whose checksum matches what was changed in it, so
    that the check under test, not the checksum, is the one that must refuse it;
    ``tokens`` are (marker, text) pairs put in verbatim, for what json.dumps cannot write."""
    document = copy.deepcopy(document)
    if checksum and isinstance(document, dict):
        try:
            document["checksum"] = model_file._checksum(document.get("architecture"), document.get("parameters"))
        except ValueError:  # an integer of more digits than Python converts to text
            pass
    text = json.dumps(document)
    for marker, token in tokens:
        text = text.replace(json.dumps(marker), token)
    path.write_text(text)


# Not regular files

@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_devices_are_refused(model, device):
    check_refused(model, device, f"^{device} is a character device, not a regular file")


def test_a_link_to_a_device_is_refused(model, tmp_path):
    (tmp_path / "model.json").symlink_to("/dev/zero")
    check_refused(model, tmp_path / "model.json", r"model.json \(a link to /dev/zero\) is a character device")


def test_a_fifo_is_refused_without_blocking(model, tmp_path):
    fifo = tmp_path / "model.json"
    os.mkfifo(fifo)
    before = numbers_of(model)
    error = raised_without_blocking(fifo, model.load, fifo)
    assert isinstance(error, ValueError) and "is a FIFO (named pipe), not a regular file" in str(error)
    assert numbers_of(model) == before


def test_a_folder_is_refused(model, tmp_path):
    check_refused(model, tmp_path, "is a folder, not a regular file")


def test_a_socket_is_refused(model, tmp_path):
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "sock"))
    try:
        check_refused(model, tmp_path / "sock", "is a socket, not a regular file")
    finally:
        server.close()


def test_a_loop_of_links_and_a_dangling_link_raise_oserror(model, tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    check_refused(model, tmp_path / "a", "Too many levels of symbolic links", OSError)
    (tmp_path / "dangling").symlink_to("nowhere.json")
    check_refused(model, tmp_path / "dangling", "No such file", FileNotFoundError)


def test_a_link_to_a_model_file_loads(model, saved, tmp_path):
    (tmp_path / "link.json").symlink_to(saved.name)
    other = nn.MLP(1, [1, 1], seed=5)
    other.load(tmp_path / "link.json")
    assert numbers_of(other) == numbers_of(model)


# The size bound: 1 MiB + 256 bytes per parameter, never read past

def padded_to(saved, size):
    text = saved.read_bytes()
    saved.write_bytes(text + b" " * (size - len(text)))  # JSON allows trailing white space


def test_a_file_of_exactly_the_bound_loads_and_one_byte_more_is_refused_unread(model, saved, monkeypatch):
    limit = model_file.size_limit(4)
    assert limit == (1 << 20) + 4 * 256
    padded_to(saved, limit)
    model.load(saved)
    padded_to(saved, limit + 1)
    read = counting_reads(monkeypatch)
    check_refused(model, saved, f"is {limit + 1:,} bytes, more than the {limit:,} bytes it may hold")
    assert read == []


def test_a_file_larger_than_its_size_says_is_read_only_to_the_bound(model, saved, monkeypatch):
    # as a file in /proc (size 0) or one that grows after it was measured
    with open(saved, "r+b") as file:
        file.truncate(1 << 30)  # sparse: no gigabyte is written
    sizes_said_empty(monkeypatch)
    read = counting_reads(monkeypatch)
    check_refused(model, saved, "longer than its size says, more than the")
    assert sum(read) == model_file.size_limit(4) + 1


def test_save_refuses_a_file_that_load_would_refuse_as_too_large(tmp_path):
    class Named(nn.Module):
        def __init__(self):
            setattr(self, "n" * 2_000_000, nn.Neuron(1, rng=0))  # names past the bound

    with pytest.raises(ValueError, match="cannot save: the file would be .* more than a model file may be"):
        Named().save(tmp_path / "model.json")
    assert os.listdir(tmp_path) == []


# Nesting

@pytest.mark.parametrize("bomb", ["[" * 100_000, '{"a":' * 100_000, "[" * 10_000_000], ids=["100 KB [", "100 KB {", "10 MB ["])
def test_nesting_bombs(tmp_path, bomb):
    path = tmp_path / "model.json"
    path.write_text(bomb)
    with pytest.raises(ValueError, match="nested more deeply than the parser can follow"):
        model_file.load(path, {}, 40_000)  # a bound of 11 MB, so that the parser meets the bomb


@pytest.mark.parametrize("depth", [31, 100, 500])
def test_deep_objects_that_the_parser_follows_are_refused_before_anything_walks_them(model, saved, document, depth):
    document["architecture"]["deep"] = "DEEP"
    nested = "[" * depth + "]" * depth
    write(saved, document, tokens=[("DEEP", nested)])
    check_refused(model, saved, f"nested {depth + 2} levels deep; a model file nests 32 levels at most")


# Numbers

def number_positions(document):
    return [("version",), ("architecture", "nin"), ("architecture", "nouts", 0)] + [
        ("parameters", name) for name in document["parameters"]
    ]


def put(document, position, value):
    document = copy.deepcopy(document)
    *outer, last = position
    holder = document
    for key in outer:
        holder = holder[key]
    holder[last] = value
    return document


HOSTILE_NUMBERS = [  # (text in the file, what the error says)
    ("NaN", "holds NaN"),
    ("Infinity", "holds Infinity"),
    ("-Infinity", "holds -Infinity"),
    ("1e999", "the number 1e999, too large for a float"),
    ("-1e999", "the number -1e999, too large for a float"),
    ("1" + "0" * 399, r"the integer 10000000000000000000\.\.\. \(400 digits\); model files hold integers within"),
    ("-" + "9" * 5000, r"the integer -9999999999999999999\.\.\. \(5,000 digits\)"),
    (str(2**53 + 1), "the integer 9007199254740993; model files hold integers within"),
]


@pytest.mark.parametrize("text, message", HOSTILE_NUMBERS, ids=[text[:12] for text, _ in HOSTILE_NUMBERS])
def test_numbers_beyond_a_finite_float_or_an_exact_integer_in_every_position(model, saved, document, text, message):
    for position in number_positions(document):
        write(saved, put(document, position, "NUMBER"), tokens=[("NUMBER", text)])
        check_refused(model, saved, message)


def test_a_400_digit_parameter_with_a_matching_checksum(model, saved, document):
    name = next(iter(document["parameters"]))
    write(saved, put(document, ("parameters", name), 10**400))
    check_refused(model, saved, r"the integer 10000000000000000000\.\.\. \(401 digits\)")


def test_integers_up_to_2_to_the_53_are_numbers(model, saved, document):
    name = next(iter(document["parameters"]))
    write(saved, put(document, ("parameters", name), -(2**53)))
    model.load(saved)
    assert model.state_dict()[name] == -(2.0**53)


def test_minus_zero_and_the_smallest_subnormal_are_kept_exactly(model, saved, document):
    first, second = list(document["parameters"])[:2]
    write(saved, put(put(document, ("parameters", first), -0.0), ("parameters", second), 5e-324))
    model.load(saved)
    assert math.copysign(1.0, model.state_dict()[first]) == -1.0 and model.state_dict()[second] == 5e-324


def every_position(document, position=()):
    yield position
    children = document.items() if isinstance(document, dict) else enumerate(document) if isinstance(document, list) else ()
    for key, child in children:
        yield from every_position(child, position + (key,))


@pytest.mark.parametrize("constant", [True, False, None], ids=["true", "false", "null"])
def test_true_false_null_in_every_position(model, saved, document, constant):
    positions = list(every_position(document))
    assert len(positions) == 17
    for position in positions:
        hostile = constant if position == () else put(document, position, constant)
        write(saved, hostile, checksum=position != ("checksum",))
        check_refused(model, saved, "is not a model file|is model file version|is damaged|another architecture")


@pytest.mark.parametrize("value", ["0.5", [0.5], {"x": 0.5}, [0.0] * 100_000], ids=["string", "list", "object", "huge array"])
def test_what_is_not_a_number_where_a_parameter_belongs(model, saved, document, value):
    name = next(iter(document["parameters"]))
    write(saved, put(document, ("parameters", name), value))
    error = check_refused(model, saved, f"parameter '{name}' is .*, not a number")
    assert len(str(error)) < 500


@pytest.mark.parametrize("position, value", [(("version",), "1"), (("version",), 1.0), (("architecture", "nin"), 1.0), (("architecture", "nouts"), "[1, 1]")])
def test_a_near_miss_is_not_the_same(model, saved, document, position, value):
    write(saved, put(document, position, value))
    check_refused(model, saved, "version|another architecture")


def test_a_huge_array_in_place_of_the_document(model, saved):
    saved.write_text(json.dumps([0] * 300_000))
    check_refused(model, saved, "is not a model file: it has no \"format\"")


# Text

def test_a_byte_order_mark(model, saved):
    saved.write_bytes(codecs.BOM_UTF8 + saved.read_bytes())
    check_refused(model, saved, "starts with a byte-order mark")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32(model, saved, encoding):
    saved.write_bytes(saved.read_text().encode(encoding))
    check_refused(model, saved, "binary, not JSON text")


@pytest.mark.parametrize("junk", [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00"], ids=["ff", "cut sequence", "surrogate", "NUL"])
def test_invalid_utf8_and_nul_bytes(model, saved, junk):
    text = saved.read_bytes()
    cut = text.index(b"MLP")
    saved.write_bytes(text[:cut] + junk + text[cut:])
    check_refused(model, saved, "binary, not JSON text")


def test_truncated_anywhere(model, saved):
    text = saved.read_bytes()
    for length in list(range(1, len(text) - 1, len(text) // 25)) + [len(text) - 2]:
        saved.write_bytes(text[:length])
        check_refused(model, saved, "not valid JSON|empty")


def test_white_space_only(model, saved):
    saved.write_bytes(b" \n\t\r " * 100)
    check_refused(model, saved, "it is empty")


def test_a_name_given_twice_at_the_top(model, saved):
    saved.write_text('{"format": "x", "format": "autodiff.nn model"}')
    check_refused(model, saved, "names 'format' twice")


@pytest.mark.parametrize("name", ["\x1b]0;pwned\x07\x1b[2J", "\ud800", "\u202egnp.exe"], ids=["escape codes", "lone surrogate", "right-to-left"])
def test_hostile_text_never_reaches_an_error_message_as_is(model, saved, document, name):
    write(saved, put(document, ("architecture", "type"), name))
    check_refused(model, saved, "another architecture")
    saved.write_text("{" + json.dumps(name) + ": 1, " + json.dumps(name) + ": 2}")
    check_refused(model, saved, "twice")


def test_a_long_name_is_shortened_in_the_message(model, saved, document):
    write(saved, put(document, ("architecture", "type"), "M" * 500_000))
    error = check_refused(model, saved, "another architecture")
    assert len(str(error)) < 1000


# Saving

def test_save_refuses_what_load_would_refuse(tmp_path):
    class Odd(nn.Neuron):
        def architecture(self):
            return {"type": "Odd", "size": 10**20}

    path = tmp_path / "model.json"
    path.write_text("old")
    with pytest.raises(ValueError, match="cannot save: the file could not be loaded again: it holds the integer 10000000000000000000... \\(21 digits\\)"):
        Odd(1, rng=0).save(path)
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["model.json"]


def test_save_through_a_link_writes_its_target_and_load_reads_it(model, saved, tmp_path):
    (tmp_path / "latest.json").symlink_to(saved.name)
    model.layers[0].neurons[0].b.data = 0.25
    model.save(tmp_path / "latest.json")
    assert (tmp_path / "latest.json").is_symlink() and sorted(os.listdir(tmp_path)) == ["latest.json", "model.json"]
    other = nn.MLP(1, [1, 1], seed=3)
    other.load(saved)
    assert other.layers[0].neurons[0].b.data == 0.25


def test_save_into_a_missing_folder_names_the_folder(model, tmp_path):
    with pytest.raises(FileNotFoundError) as raised:
        model.save(tmp_path / "missing" / "model.json")
    assert raised.value.filename == str(tmp_path / "missing") and ".tmp" not in str(raised.value)
