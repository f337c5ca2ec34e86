"""Choosing a model by registered name or file: the registry's resolve(), `facealign models`, CLI errors."""
import json

import numpy as np
import pytest

from facealign.cli.main import main
from facealign.runtime import registry

from helpers import SAMPLE


def test_resolve_a_registered_name():
    spec, path = registry.resolve("stfan-lmk-112-fast", "landmarks")
    assert spec.name == "stfan-lmk-112-fast" and path == spec.path


def test_resolve_a_file_uses_the_default_spec_of_the_kind(tmp_path):
    f = tmp_path / "m.onnx"
    f.write_bytes(b"x")
    spec, path = registry.resolve(str(f), "landmarks")
    assert path == f and spec.kind == "landmarks" and spec.name == registry.default("landmarks").name


def test_resolve_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="not a landmarks model"):
        registry.resolve("ssdlite-det", "landmarks")
    with pytest.raises(ValueError, match="stfan-lmk-112-fast"):  # lists the registered names
        registry.resolve("no-such-model", "landmarks")
    with pytest.raises(FileNotFoundError, match="missing.onnx"):
        registry.resolve(str(tmp_path / "missing.onnx"), "landmarks")


def test_models_command_lists_every_registered_model(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for s in registry.list_models():
        assert s.name in out


def test_align_with_the_fast_landmark_model_agrees_with_the_default(tmp_path):
    """Both networks find the astronaut's face; their 68 points agree within a few percent of the face size."""
    faces = {}
    for name in ["stfan-lmk-112", "stfan-lmk-112-fast"]:
        out = tmp_path / name
        assert main(["align", str(SAMPLE), "--out", str(out), "-q", "--landmarks-model", name]) == 0
        rec = json.loads((out / "results.jsonl").read_text().splitlines()[0])
        faces[name] = max(rec["faces"], key=lambda f: f["box"][2] - f["box"][0])
    a, b = (np.array(faces[n]["landmarks"]) for n in faces)
    box = np.array(faces["stfan-lmk-112"]["box"])
    assert box[2] - box[0] > 60  # the astronaut (about 90 px wide), not the 20 px badge
    assert np.linalg.norm(a - b, axis=1).mean() < 0.03 * (box[2] - box[0])


@pytest.mark.parametrize("extra, message", [
    (["--landmarks-model", "no-such-model"], "unknown landmarks model"),
    (["--landmarks-model", "stfan-lmk-112-fast", "--fast"], "--fast skips the landmark network"),
])
def test_align_rejects_a_bad_landmark_model_choice(tmp_path, capsys, extra, message):
    with pytest.raises(SystemExit) as e:
        main(["align", str(SAMPLE), "--out", str(tmp_path), "-q", *extra])
    assert e.value.code == 2 and message in capsys.readouterr().err
