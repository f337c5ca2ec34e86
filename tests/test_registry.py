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


def test_save_spec_adds_and_updates_an_entry_and_regenerates_the_readme_table(tmp_path):
    """The write side (promote): models.json gains the entry, the README table between the markers follows."""
    import shutil
    from dataclasses import replace

    shutil.copy(registry.MODELS_DIR / registry.REGISTRY_FILE, tmp_path)
    (tmp_path / "README.md").write_text(f"# models\n\n{registry.README_BEGIN}\nold\n{registry.README_END}\n\nmore text\n")
    (tmp_path / "new.onnx").write_bytes(b"x")
    base = registry.get("stfan-lmk-112-fast")
    spec = replace(base, name="lmk-new", file="new.onnx", version="2", description="a promoted model")
    registry.save_spec(spec, models_dir=tmp_path)
    specs = registry.load_specs(tmp_path)
    assert list(specs)[-1] == "lmk-new" and specs["lmk-new"].path == tmp_path / "new.onnx"
    shipped = [s.name for s in registry.list_models()]
    assert list(specs)[: len(shipped)] == shipped  # the shipped entries keep their order
    text = (tmp_path / "README.md").read_text()
    assert "old" not in text and "`lmk-new`" in text and text.endswith("more text\n")
    registry.save_spec(replace(spec, version="3"), models_dir=tmp_path)  # update in place
    assert registry.load_specs(tmp_path)["lmk-new"].version == "3" and len(registry.load_specs(tmp_path)) == len(shipped) + 1
    with pytest.raises(ValueError, match="registered already"):
        registry.save_spec(spec, replace=False, models_dir=tmp_path)
    with pytest.raises(FileNotFoundError):
        registry.save_spec(replace(spec, name="x", file="absent.onnx"), models_dir=tmp_path)


def test_the_models_readme_table_is_generated_from_the_registry():
    text = (registry.MODELS_DIR / "README.md").read_text()
    block = text[text.index(registry.README_BEGIN) + len(registry.README_BEGIN): text.index(registry.README_END)]
    assert block.strip() == registry.readme_table(registry.list_models())
