"""The 3D-convention head of the landmark network: training targets, the training loop, export, runtime, and the
3D fit that uses its points (tiny generated data, seconds)."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from facealign.alignment.points import FLIP68, tight_box  # noqa: E402
from facealign.alignment.transforms import apply  # noqa: E402
from facealign.data.landmark_crops import FaceSet  # noqa: E402
from facealign.training.common.run import RunOptions  # noqa: E402
from facealign.training.landmarks.net import LandmarkNet, adopt_weights  # noqa: E402
from tests.test_landmark_training import smoke_config, synthetic_face, tiny_sets  # noqa: E402


def with_3d(sets: list[FaceSet], shift: float = 0.0) -> list[FaceSet]:
    """The 68-point sets with 3D-convention points: the 2D points with the jaw moved by ``shift`` px."""
    for s in sets:
        if s.n_points == 68:
            s.points3d = s.points.copy()
            s.points3d[:, :17, 0] += shift
    return sets


def test_batch_carries_the_3d_points_like_the_2d_points():
    """Flip (with the mirror order), rotation and jitter move both point sets by the same warp."""
    from facealign.training.landmarks.train import make_batch

    cfg, _ = smoke_config_tmp()
    cfg.aug.p_flip, cfg.aug.p_rotate = 0.5, 1.0
    train, _ = tiny_sets()
    train = with_3d(train)
    plan = np.array([[0, i] for i in range(8)] + [[1, 0]])
    b = make_batch(train, plan, cfg, np.random.default_rng(3))
    assert b["mask3d"][:8].all() and not b["mask3d"][8]  # the 5-point face has none
    assert b["flipped"][:8].any()
    assert torch.allclose(b["pts3d"][:8], b["pts68"][:8], atol=1e-4)


def smoke_config_tmp():
    import tempfile
    from pathlib import Path

    return smoke_config(Path(tempfile.mkdtemp()))


def test_adopted_head_starts_as_the_2d_head():
    cfg, _ = smoke_config_tmp()
    plain = LandmarkNet(cfg.net).eval()
    cfg.net.points3d = True
    net = LandmarkNet(cfg.net).eval()
    assert adopt_weights(net, plain.state_dict()) is True
    out = net(torch.randint(0, 256, (2, 112, 112, 3), dtype=torch.uint8))
    assert torch.allclose(out["landmarks3d"], out["landmarks"], atol=1e-4)
    assert adopt_weights(net, net.state_dict()) is False  # a state with the head loads as it is


def test_training_export_and_runtime_with_the_3d_head(tmp_path):
    """The loop trains both heads, validates the 3D one (nme3d_), exports `landmarks3d`, and the runtime maps it
    to image pixels exactly like the 2D points (mirrored pass included)."""
    from facealign.landmarks.onnx_landmarks import ONNXLandmarks
    from facealign.training.common import checkpoint
    from facealign.training.landmarks.train import train

    cfg, opts = smoke_config(tmp_path)
    cfg.net.points3d = True
    train_sets, val_sets = tiny_sets()
    best = train(cfg, opts, sets=(with_3d(train_sets, 2.0), with_3d(val_sets, 2.0)), echo=None)
    assert np.isfinite(best["train_3dpts"]) and np.isfinite(best["nme3d_300w_afw"])
    run = opts.run_dir
    net = LandmarkNet(cfg.net)
    net.load_state_dict(checkpoint.load(run / "best.pt").model)
    net.eval()
    img, pts = synthetic_face(np.random.default_rng(5), 200)
    boxes = np.stack([tight_box(pts), tight_box(pts) + 4])
    for tta in (False, True):
        model = ONNXLandmarks(path=run / "best.onnx", threads=1, flip_tta=tta)
        assert model.has_3d
        out = model.predict_all(img, boxes)
        assert out.landmarks3d.shape == (2, 68, 2)
        crops, mats = model.crops(img, boxes)
        x = torch.from_numpy(np.ascontiguousarray(crops))
        with torch.no_grad():
            want = net(x)["landmarks3d"].numpy()
            if tta:
                mirrored = net(torch.from_numpy(np.ascontiguousarray(crops[:, :, ::-1])))["landmarks3d"].numpy()
                mirrored = mirrored[:, FLIP68]
                mirrored[..., 0] = 111 - mirrored[..., 0]
                want = (want + mirrored) / 2
        got = np.stack([apply(mats[i], out.landmarks3d[i]) for i in range(2)])
        assert np.abs(got - want).max() < 1e-2


def test_2d_only_model_gives_no_3d_points(tmp_path):
    from facealign.landmarks.onnx_landmarks import ONNXLandmarks
    from facealign.training.landmarks.export import export_onnx

    cfg, _ = smoke_config(tmp_path)
    export_onnx(LandmarkNet(cfg.net).eval(), tmp_path / "m.onnx")
    model = ONNXLandmarks(path=tmp_path / "m.onnx", threads=1)
    img, pts = synthetic_face(np.random.default_rng(1), 200)
    out = model.predict_all(img, tight_box(pts)[None])
    assert not model.has_3d and out.landmarks3d is None and out.landmarks.shape == (1, 68, 2)
