"""`facealign models promote`: a training export is checked, copied and registered (in a temporary models folder)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from facealign.cli.main import main  # noqa: E402
from facealign.jobs.promote import PromoteOptions, check_contract, promote  # noqa: E402
from facealign.runtime import registry  # noqa: E402


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """Tiny untrained exports of each kind, as a run folder holds them."""
    from facealign.training.detection.export import export_onnx as export_detector
    from facealign.training.detection.net import SSDLiteNet
    from facealign.training.landmarks.config import NetConfig
    from facealign.training.landmarks.export import export_onnx as export_landmarks
    from facealign.training.landmarks.net import LandmarkNet
    from facealign.training.temporal.export import export_onnx as export_temporal
    from facealign.training.temporal.net import TemporalNet

    run = tmp_path_factory.mktemp("run")
    torch.manual_seed(0)
    export_landmarks(LandmarkNet(NetConfig(widths=[8, 8, 16, 16, 24], depths=[1, 1, 1, 1], expand=2,
                                           fpn_channels=8, head_blocks=1, feature_channels=0)), run / "best.onnx")
    export_detector(SSDLiteNet((8, 16, 16, 24, 32), 16), run / "det.onnx")
    export_temporal(TemporalNet(3, 2, hidden=8), run / "temporal_offline.onnx")
    return run


@pytest.fixture
def models_dir(tmp_path):
    d = tmp_path / "models"
    d.mkdir()
    (d / "models.json").write_text('{"models": []}\n')
    (d / "README.md").write_text("# Shipped models\n\nIntro.\n")
    return d


def test_contract_check_reads_kind_and_size(exports):
    assert check_contract(exports / "best.onnx") == ("landmarks", 112, {})
    assert check_contract(exports / "det.onnx")[0] == "detector"
    assert check_contract(exports / "temporal_offline.onnx") == ("temporal", 6, {"past": 3, "future": 2})
    with pytest.raises(ValueError, match="a detector model, not a landmarks model"):
        check_contract(exports / "det.onnx", "landmarks")


def test_promote_copies_registers_and_writes_the_readme(exports, models_dir):
    spec = promote(PromoteOptions(exports / "best.onnx", "tiny-lmk", description="a tiny test model",
                                  made_by="a test", models_dir=models_dir))
    assert spec.kind == "landmarks" and spec.file == "tiny_lmk.onnx" and spec.version == "1"
    assert (models_dir / "tiny_lmk.onnx").read_bytes() == (exports / "best.onnx").read_bytes()
    doc = json.loads((models_dir / "models.json").read_text())
    assert [m["name"] for m in doc["models"]] == ["tiny-lmk"] and doc["models"][0]["options"]["crop_scale"] == 1.4
    readme = (models_dir / "README.md").read_text()
    assert "Intro." in readme and "`tiny_lmk.onnx` | `tiny-lmk`" in readme
    # a second version needs --replace; it keeps the entry's description and bumps the version
    with pytest.raises(ValueError, match="--replace"):
        promote(PromoteOptions(exports / "best.onnx", "tiny-lmk", models_dir=models_dir))
    spec = promote(PromoteOptions(exports / "best.onnx", "tiny-lmk", replace=True, models_dir=models_dir))
    assert spec.version == "2" and spec.description == "a tiny test model"
    assert len(registry.load_specs(models_dir)) == 1


def test_promote_refuses_a_wrong_kind_and_writes_nothing(exports, models_dir):
    before = (models_dir / "models.json").read_text()
    with pytest.raises(ValueError, match="not a landmarks model"):
        promote(PromoteOptions(exports / "det.onnx", "x", kind="landmarks", description="d", models_dir=models_dir))
    with pytest.raises(ValueError, match="description"):
        promote(PromoteOptions(exports / "det.onnx", "new-det", models_dir=models_dir))
    assert (models_dir / "models.json").read_text() == before and sorted(p.name for p in models_dir.iterdir()) == [
        "README.md", "models.json"]
    with pytest.raises(ValueError, match="not found"):
        PromoteOptions(exports / "missing.onnx", "x")


def test_promote_command(exports, models_dir, capsys):
    code = main(["models", "promote", str(exports / "temporal_offline.onnx"), "--name", "tiny-temporal",
                 "--description", "test", "--option", "note=\"x\"", "--models-dir", str(models_dir)])
    assert code == 0 and "promoted" in capsys.readouterr().out
    spec = registry.load_specs(models_dir)["tiny-temporal"]
    assert spec.kind == "temporal" and spec.input_size == 6 and spec.options == {"past": 3, "future": 2, "note": "x"}
    code = main(["models", "promote", str(exports / "det.onnx"), "--name", "bad", "--kind", "temporal",
                 "--description", "d", "--models-dir", str(models_dir)])
    err = capsys.readouterr().err
    assert code == 2 and "not a temporal model" in err and "Traceback" not in err
