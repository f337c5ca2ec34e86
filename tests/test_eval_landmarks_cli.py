"""`facealign eval landmarks` end to end on a generated data set with the marker-reading fake model."""
from __future__ import annotations

import json

import cv2
import pytest

from facealign.alignment.points import five_from_68
from facealign.cli.main import main
from eval_fakes import BoxDetector, MarkerLandmarks, face_image, similarity


def _write_pts(path, pts):
    q = pts + 1  # .pts files are 1-based
    path.write_text("version: 1\nn_points: 68\n{\n" + "\n".join(f"{x:.3f} {y:.3f}" for x, y in q) + "\n}\n")


@pytest.fixture
def fake_aligner(monkeypatch):
    import facealign.pipeline as pipeline

    real = pipeline.FaceAligner
    monkeypatch.setattr(pipeline, "build_aligner", lambda *a, **k: real(detector=BoxDetector([]), landmarks=MarkerLandmarks()))


def test_cli_writes_metrics_predictions_plots(tmp_path, fake_aligner, capsys):
    data = tmp_path / "data"
    data.mkdir()
    for i, angle in enumerate((0, 10)):
        img, gt = face_image(similarity(1.0, angle, 5 * i, 0))
        cv2.imwrite(str(data / f"f{i}.png"), img)
        _write_pts(data / f"f{i}.pts", gt)
    (data / "broken.png").write_bytes(b"nope")
    _write_pts(data / "broken.pts", gt)
    img, gt = face_image(similarity(1.0, 0, 0, 0))
    p5 = five_from_68(gt) + 1
    (data / "mtfl.txt").write_text(
        "f0.png " + " ".join(f"{v:.3f}" for v in p5[:, 0]) + " " + " ".join(f"{v:.3f}" for v in p5[:, 1]) + " 1 2 2 3\n"
    )
    out = tmp_path / "out"
    rc = main(["eval", "landmarks", "--data", f"pts:{data}", "--data", f"m5=mtfl:{data / 'mtfl.txt'}", "--quiet",
               "--closed-loop", "--template", "mean68", "--out", str(out)])
    cap = capsys.readouterr()
    assert rc == 0
    assert "unreadable image" in cap.err and "broken.png" in cap.err
    assert "NME io" in cap.out and "AUC@0.08" in cap.out and "pose bin" in cap.out and "closed loop" in cap.out
    m = json.loads((out / "metrics.json").read_text())
    ours = m[next(k for k in m if k != "m5")]["facealign"]
    assert ours["n"] == 2 and ours["unreadable"] == 1 and ours["nme"]["io"] < 1e-3
    assert m["m5"]["facealign"]["per_pose"]["3"]["n"] == 1
    assert (out / "ced.png").stat().st_size > 1000
    preds = sorted(p.name for p in out.glob("predictions_*.json"))
    assert len(preds) == 2
    # the written predictions can be compared back as a peer
    rc = main(["eval", "landmarks", "--data", f"m5=mtfl:{data / 'mtfl.txt'}", "--quiet",
               "--compare", f"peer={out / 'predictions_m5.json'}"])
    assert rc == 0 and "peer" in capsys.readouterr().out


def test_cli_bad_spec_is_a_clear_error(capsys, fake_aligner):
    assert main(["eval", "landmarks", "--data", "nope:/x"]) == 2
    assert "unknown kind" in capsys.readouterr().err


def test_cli_model_option_checks_the_file(tmp_path, capsys):
    (tmp_path / "d").mkdir()
    rc = main(["eval", "landmarks", "--data", f"pts:{tmp_path / 'd'}", "--model", str(tmp_path / "missing.onnx"),
               "--out", str(tmp_path / "o")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "model file not found" in err and "missing.onnx" in err
