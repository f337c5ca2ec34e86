"""Detector training smoke tests: scenes, anchor matching, a few steps on generated faces, ONNX == torch."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from facealign.detection.anchors import decode, priors  # noqa: E402
from facealign.training.common.run import RunOptions  # noqa: E402
from facealign.training.detection.config import load_config  # noqa: E402
from facealign.training.detection.export import check_onnx, export_onnx  # noqa: E402
from facealign.training.detection.net import ExportWrapper, SSDLiteNet, normalise  # noqa: E402
from facealign.data.scenes import SceneParams, compose_scene  # noqa: E402
from facealign.data.synthetic import synthetic_split  # noqa: E402
from facealign.training.detection.targets import match  # noqa: E402

SMOKE = Path(__file__).resolve().parents[1] / "configs" / "detector_smoke.yaml"


def test_scene_composition_shapes_and_labels_inside():
    faces, negs = synthetic_split(8)
    rng = np.random.default_rng(0)
    n_faces = 0
    for _ in range(20):
        sc = compose_scene(rng, faces, negs, SceneParams(size=160))
        assert sc.image.shape == (160, 160, 3) and sc.image.dtype == np.uint8
        assert sc.boxes.shape[1:] == (4,) and sc.kps.shape == (len(sc.boxes), 5, 2) and sc.ignore.shape[1:] == (4,)
        size = np.maximum(sc.boxes[:, 2] - sc.boxes[:, 0], sc.boxes[:, 3] - sc.boxes[:, 1])
        assert np.all(size >= 10)
        # visible faces lie (mostly) on the canvas
        assert np.all(sc.boxes[:, :2] > -0.5 * size[:, None]) and np.all(sc.boxes[:, 2:] < 160 + 0.5 * size[:, None])
        n_faces += len(sc.boxes)
    assert n_faces > 10


def test_match_positives_ignore_and_targets_roundtrip():
    pri = priors(128, 128)
    boxes = np.array([[40.0, 40.0, 70.0, 72.0]], np.float32)
    kps = np.array([[[48, 52], [62, 52], [55, 60], [50, 66], [60, 66]]], np.float32)
    ignore = np.array([[90.0, 5.0, 120.0, 30.0]], np.float32)
    lab, tb, tk = match(pri, boxes, kps, ignore)
    pos = np.nonzero(lab == 1)[0]
    assert len(pos) >= 3
    b, k = decode(pri[pos], tb[pos], tk[pos])
    np.testing.assert_allclose(b, np.repeat(boxes, len(pos), 0), atol=1e-3)
    np.testing.assert_allclose(k, np.repeat(kps, len(pos), 0), atol=1e-3)
    c = pri[:, :2]
    in_ign = (c[:, 0] >= 90) & (c[:, 0] <= 120) & (c[:, 1] >= 5) & (c[:, 1] <= 30)
    assert np.all(lab[in_ign] == -1)
    # an empty scene: everything outside ignore regions is background
    lab0, _, _ = match(pri, np.zeros((0, 4), np.float32), np.zeros((0, 5, 2), np.float32), np.zeros((0, 4), np.float32))
    assert np.all(lab0 == 0)


def test_net_output_shapes_match_priors():
    net = SSDLiteNet((8, 16, 16, 24, 32), 16).eval()
    x = torch.zeros(2, 96, 160, 3, dtype=torch.uint8)
    cls, box, kps = net(normalise(x))
    n = len(priors(96, 160))
    assert cls.shape == (2, n) and box.shape == (2, n, 4) and kps.shape == (2, n, 10)


def test_smoke_training_and_export(tmp_path):
    from facealign.training.detection.train import train

    from facealign.training.common import checkpoint

    cfg = load_config(SMOKE)
    run = tmp_path / "run"
    logs: list[str] = []
    best = train(cfg, RunOptions(run_dir=run), echo=logs.append)
    assert "ap50" in best
    onnx_path = run / "best.onnx"  # exported into the run folder
    assert onnx_path.is_file() and (run / "last.pt").is_file()
    assert any("onnxruntime vs torch" in m for m in logs)
    assert "epoch 1 step 3" in (run / "log.txt").read_text() and (run / "metrics.jsonl").is_file()
    # resume continues from the checkpoint
    train(cfg, RunOptions(run_dir=run, resume=True, epochs=2), echo=logs.append)
    assert any("resumed at epoch 1" in m for m in logs)
    assert checkpoint.load(run / "last.pt").step == 6


def test_time_budget_stops_detector_training_and_checkpoints(tmp_path):
    from facealign.training.common import checkpoint
    from facealign.training.detection.train import train

    cfg = load_config(SMOKE)
    cfg.epochs = 40
    run = tmp_path / "run"
    train(cfg, RunOptions(run_dir=run, time_budget_min=1e-6), echo=None)
    ck = checkpoint.load(run / "last.pt")
    assert ck.epoch == 1 and ck.step == 1 and ck.scheduler is not None
    assert "time budget" in (run / "log.txt").read_text() and (run / "best.onnx").is_file()


def test_onnx_matches_torch_on_several_sizes(tmp_path):
    torch.manual_seed(0)
    net = SSDLiteNet((8, 16, 16, 24, 32), 16)
    path = tmp_path / "det.onnx"
    assert export_onnx(net, path) < 1e-4
    assert check_onnx(net, path, sizes=((64, 64), (96, 160), (32, 320))) < 1e-4


def test_export_folds_the_pixel_normalisation_into_the_stem(tmp_path):
    import onnx

    from facealign.training.fold_input import fold_input_normalisation

    torch.manual_seed(1)
    net = SSDLiteNet((8, 16, 16, 24, 32), 16)
    path = tmp_path / "det.onnx"
    export_onnx(net, path)
    ops = [n.op_type for n in onnx.load(str(path)).graph.node if n.op_type not in ("Identity", "Constant")]
    assert ops[:3] == ["Transpose", "Cast", "Conv"]  # no Sub/Div (folded) and no Pad (black border)
    # the torch twin with a black border matches the graph, border anchors included
    assert check_onnx(net, path, sizes=((32, 32), (64, 96))) < 1e-4
    # the exact variant keeps the normalised zero padding with an explicit Pad
    exact = tmp_path / "exact.onnx"
    torch.onnx.export(ExportWrapper(net.eval()), (torch.zeros(1, 64, 64, 3, dtype=torch.uint8),), str(exact),
                      input_names=["input"], output_names=["scores", "boxes", "kps"], opset_version=17, dynamo=False,
                      dynamic_axes={"input": {1: "h", 2: "w"}})
    assert fold_input_normalisation(exact, exact_border=True)
    from facealign.runtime.session import create_session

    x = np.random.default_rng(0).integers(0, 256, (1, 64, 64, 3), dtype=np.uint8)
    got = create_session(exact, 1).run(None, {"input": x})
    with torch.no_grad():
        want = ExportWrapper(net.eval())(torch.from_numpy(x))
    assert max(float(np.abs(g - w.numpy()).max()) for g, w in zip(got, want)) < 1e-4
    assert fold_input_normalisation(path) is False  # already folded: nothing to do
