"""Model files: round trip, atomic saves, and one test per fault on load."""

import json
import os
import pickle

import pytest

import nn


@pytest.fixture
def model():
    return nn.MLP(2, [4, 1], seed=0)


@pytest.fixture
def saved(model, tmp_path):
    path = tmp_path / "model.json"
    model.save(path)
    return path


def test_save_then_load_restores_every_parameter_exactly(model, saved):
    other = nn.MLP(2, [4, 1], seed=99)
    other.load(saved)
    assert other.state_dict() == model.state_dict()


def test_the_file_is_json_with_format_version_architecture_parameters_checksum(saved):
    document = json.loads(saved.read_text())
    assert document["format"] == "autodiff.nn model" and document["version"] == 1
    assert document["architecture"] == {"type": "MLP", "nin": 2, "nouts": [4, 1], "activation": "relu", "out_activation": "linear"}
    assert "layers.0.neurons.0.w.0" in document["parameters"]
    assert document["checksum"].startswith("sha256:")


def test_non_finite_parameters_are_refused_at_save_and_the_old_file_kept(model, saved):
    before = saved.read_bytes()
    model.layers[0].neurons[1].b.data = float("inf")
    with pytest.raises(ValueError, match="'layers.0.neurons.1.b' is inf"):
        model.save(saved)
    assert saved.read_bytes() == before
    assert os.listdir(saved.parent) == ["model.json"]


def test_a_failed_write_leaves_the_old_file_whole_and_no_temporary_file(model, saved, monkeypatch):
    before = saved.read_bytes()
    model.layers[0].neurons[0].b.data = 0.123

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        model.save(saved)
    assert saved.read_bytes() == before
    assert os.listdir(saved.parent) == ["model.json"]


def check_refused(model, path, message):
    before = model.state_dict()
    with pytest.raises(ValueError, match=message):
        model.load(path)
    assert model.state_dict() == before


def rewrite(path, change):
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def test_truncated_file(model, saved):
    saved.write_bytes(saved.read_bytes()[: len(saved.read_bytes()) // 2])
    check_refused(model, saved, "not valid JSON .* truncated")


def test_empty_file(model, saved):
    saved.write_bytes(b"")
    check_refused(model, saved, "it is empty")


def test_a_pickle_is_refused_without_being_unpickled(model, saved):
    saved.write_bytes(pickle.dumps(model.state_dict()))
    check_refused(model, saved, "binary, not JSON text")


def test_other_json(model, saved):
    saved.write_text('{"hello": "world"}')
    check_refused(model, saved, "not a model file: it has no \"format\"")
    saved.write_text("[1, 2, 3]")
    check_refused(model, saved, "not a model file")


def test_another_version(model, saved):
    rewrite(saved, lambda d: d.update(version=2))
    check_refused(model, saved, "version 2; this library reads version 1")


def test_a_changed_number_breaks_the_checksum(model, saved):
    rewrite(saved, lambda d: d["parameters"].update({"layers.0.neurons.0.b": 0.5}))
    check_refused(model, saved, "checksum does not match")


def test_another_architecture(saved):
    check_refused(nn.MLP(2, [5, 1], seed=0), saved, "another architecture")
    check_refused(nn.MLP(2, [4, 1], activation="tanh", seed=0), saved, "another architecture")


def test_a_missing_parameter_with_a_valid_checksum(model, saved):
    import nn.model_file as model_file

    def drop(d):
        del d["parameters"]["layers.1.neurons.0.b"]
        d["checksum"] = model_file._checksum(d["architecture"], d["parameters"])

    rewrite(saved, drop)
    check_refused(model, saved, "no value for 'layers.1.neurons.0.b'")


def test_a_name_given_twice(model, saved):
    text = saved.read_text().replace('"layers.0.neurons.0.b":', '"layers.0.neurons.0.b": 1.0, "layers.0.neurons.0.b":', 1)
    saved.write_text(text)
    check_refused(model, saved, "names 'layers.0.neurons.0.b' twice")


def test_nan_in_the_file(model, saved):
    text = saved.read_text()
    name = '"layers.0.neurons.0.b": '
    start = text.index(name) + len(name)
    end = text.index("\n", start)
    saved.write_text(text[:start] + "NaN," + text[end:])
    check_refused(model, saved, "holds NaN")


def test_a_file_of_one_gigabyte_is_refused_before_it_is_read(model, saved):
    with open(saved, "r+b") as file:
        file.truncate(1 << 30)  # sparse: no gigabyte is written
    check_refused(model, saved, "1,073,741,824 bytes, more than the 1,052,928 bytes it may hold")


def test_a_damaged_field(model, saved):
    rewrite(saved, lambda d: d.update(parameters=[1, 2]))
    check_refused(model, saved, "'parameters' field is missing or not a dict")
