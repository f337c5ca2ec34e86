"""Smoke tests of the landmark training code on tiny generated data (no shared data, a few steps, seconds)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from facealign.alignment.crop import crop_transform  # noqa: E402
from facealign.alignment.points import five_from_68, tight_box  # noqa: E402
from facealign.alignment.templates import MEAN68  # noqa: E402
from facealign.alignment.transforms import apply  # noqa: E402
from facealign.data.landmark_crops import FaceSet  # noqa: E402
from facealign.data.pts import read_pts_file  # noqa: E402
from facealign.training.landmarks.augment import augment  # noqa: E402
from facealign.training.landmarks.config import AugConfig, load_config  # noqa: E402
from facealign.training.common.run import RunOptions  # noqa: E402
from facealign.training.landmarks.net import LandmarkNet  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def synthetic_face(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A grey image with the mean face's 68 points drawn as dots, at a random place and scale."""
    side = rng.uniform(0.3, 0.4) * size
    pts = MEAN68 * side + rng.uniform(0.3, 0.4, 2) * size
    img = np.full((size, size, 3), 40, np.uint8)
    for x, y in pts:
        cv2.circle(img, (int(round(x * 4)), int(round(y * 4))), 6, (255, 255, 255), -1, shift=2)
    return img, pts


def tiny_sets(n: int = 12, size: int = 96) -> tuple[list[FaceSet], list[FaceSet]]:
    rng = np.random.default_rng(0)
    faces = [synthetic_face(rng, size) for _ in range(n)]
    imgs = np.stack([f[0] for f in faces])
    p68 = np.stack([f[1] for f in faces]).astype(np.float32)
    pose = np.zeros(n, np.int8)
    train = [FaceSet("300w_train", imgs, p68, pose), FaceSet("mtfl_train", imgs, five_from_68(p68), pose + 3)]
    val_imgs, val_pts = [], []
    for img, pts in faces[:4]:
        m = crop_transform(tight_box(pts), 112)
        val_imgs.append(cv2.warpAffine(img, m, (112, 112)))
        val_pts.append(apply(m, pts))
    vi, vp = np.stack(val_imgs), np.stack(val_pts).astype(np.float32)
    val = [FaceSet("300w_afw", vi, vp, pose[:4]), FaceSet("mtfl_val", vi, five_from_68(vp), pose[:4] + 1)]
    return train, val


def smoke_config(tmp_path: Path):
    """The smoke config and run options with the run folder ``tmp_path/run``."""
    cfg = load_config(REPO / "configs" / "landmarks_smoke.yaml")
    cfg.data.weights = {}
    return cfg, RunOptions(run_dir=tmp_path / "run")


def test_configs_load():
    cfg = load_config(REPO / "configs" / "landmarks.yaml")
    assert cfg.net.input_size == 112 and cfg.threads == 1 and "300w_afw" in cfg.data.val
    assert "300w_afw" not in cfg.data.train  # held out
    assert load_config(REPO / "configs" / "landmarks_smoke.yaml").max_steps > 0


def test_read_pts_is_zero_based(tmp_path):
    f = tmp_path / "a.pts"
    f.write_text("version: 1\nn_points: 2\n{\n1.0 2.5\n10 20\n}\n")
    assert np.allclose(read_pts_file(f), [[0, 1.5], [9, 19]])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_augmentation_moves_points_with_the_pixels(seed):
    """Flip, rotation and box jitter warp the image and the points alike (a bright dot stays on its point)."""
    rng = np.random.default_rng(seed)
    img, pts = synthetic_face(rng, 160)
    cfg = AugConfig(p_rotate=1.0, p_flip=0.5, **{k: 0.0 for k in
                    ["p_blur", "p_noise", "p_colour", "p_grey", "p_occlude", "p_jpeg", "p_lowres"]})
    for _ in range(5):
        crop, p = augment(img, pts, 112, cfg, rng)
        inside = (p > 3).all(1) & (p < 108).all(1)
        vals = crop[np.round(p[inside, 1]).astype(int), np.round(p[inside, 0]).astype(int), 0]
        assert np.median(vals) > 150


def test_smoke_training_export_and_runtime(tmp_path):
    """A few steps, ONNX export equal to torch, and the runtime class loads it."""
    from facealign.landmarks.onnx_landmarks import ONNXLandmarks
    from facealign.training.landmarks.train import train

    from facealign.training.common import checkpoint

    cfg, opts = smoke_config(tmp_path)
    train_sets, val_sets = tiny_sets()
    best = train(cfg, opts, sets=(train_sets, val_sets), echo=None)
    assert np.isfinite(best["train_loss"]) and np.isfinite(best["nme_300w_afw"])
    run = Path(opts.run_dir)
    assert (run / "last.pt").is_file() and (run / "best.pt").is_file()
    assert "epoch 1" in (run / "log.txt").read_text()
    onnx_path = run / "best.onnx"  # the export stays in the run folder
    assert onnx_path.is_file() and onnx_path.stat().st_size < 5e6
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2

    # --resume continues with the next epoch (the config now asks for 3)
    train(cfg, RunOptions(run_dir=run, resume=True, epochs=3), sets=(train_sets, val_sets), echo=None)
    text = (run / "log.txt").read_text()
    assert "resumed from" in text and "at epoch 2" in text and "epoch 2 train_loss" in text
    assert checkpoint.load(run / "last.pt").epoch == 3

    # ONNX equals torch on the runtime's own crops, mapped back to the image
    ck = checkpoint.load(run / "best.pt")
    net = LandmarkNet(cfg.net)
    net.load_state_dict(ck.model)
    net.eval()
    from facealign.training.landmarks.export import export_onnx

    assert export_onnx(net, onnx_path) < 1e-3
    img, pts = synthetic_face(np.random.default_rng(5), 200)
    boxes = np.stack([tight_box(pts), tight_box(pts) + 5])
    model = ONNXLandmarks(path=onnx_path, threads=1)
    lm, sc = model.predict(img, boxes)
    assert lm.shape == (2, 68, 2) and sc.shape == (2, 68) and lm.dtype == np.float32
    assert ((sc >= 0) & (sc <= 1)).all()
    crops, mats = model.crops(img, boxes)
    with torch.no_grad():
        want = net(torch.from_numpy(crops.copy()))["landmarks"].numpy()
    got = np.stack([apply(mats[i], lm[i]) for i in range(2)])
    assert np.abs(got - want).max() < 1e-2


def test_cli_registers_landmarks():
    from facealign.cli.main import build_parser

    args = build_parser().parse_args(["train", "landmarks", "--config", "x.yaml", "--resume", "--epochs", "3",
                                      "--run-dir", "o", "--time-budget", "5"])
    assert args.resume and args.epochs == 3 and args.run_dir == "o" and args.time_budget == 5 and callable(args.func)
    old = build_parser().parse_args(["train", "landmarks", "--config", "x.yaml", "--out", "o"])  # old spelling
    assert old.run_dir == "o"


def test_time_budget_stops_the_run_and_checkpoints(tmp_path):
    from facealign.training.common import checkpoint
    from facealign.training.landmarks.train import train

    cfg, _ = smoke_config(tmp_path)
    cfg.epochs = 50
    run = tmp_path / "run"
    train(cfg, RunOptions(run_dir=run, time_budget_min=1e-6), sets=tiny_sets(), echo=None)
    ck = checkpoint.load(run / "last.pt")
    assert ck.epoch == 1 and ck.step == 1  # stopped after its first step, and saved
    text = (run / "log.txt").read_text()
    assert "time budget" in text and "continue with --resume" in text
    assert (run / "best.onnx").is_file()


def test_distillation_smoke_and_fast_options(tmp_path):
    """A student with nearest upsampling and no features output learns from a teacher checkpoint: the
    distillation terms are logged and finite, and its ONNX export runs in the runtime without `features`."""
    from facealign.landmarks.onnx_landmarks import ONNXLandmarks
    from facealign.training.landmarks.train import load_teacher, train

    train_sets, val_sets = tiny_sets()
    teacher_cfg, teacher_opts = smoke_config(tmp_path / "teacher")
    teacher_cfg.epochs = 1
    train(teacher_cfg, teacher_opts, sets=(train_sets, val_sets), echo=None)

    cfg, opts = smoke_config(tmp_path / "student")
    cfg.teacher = str(Path(teacher_opts.run_dir) / "last.pt")
    cfg.distill_heatmap_weight = 0.2
    cfg.net.upsample = "nearest"
    cfg.net.feature_channels = 0
    cfg.net.fpn_channels = 8
    best = train(cfg, opts, sets=(train_sets, val_sets), echo=None)
    assert np.isfinite(best["train_kd_pts"]) and np.isfinite(best["train_kd_hm"]) and best["train_kd_pts"] > 0
    assert "distilling from" in (Path(opts.run_dir) / "log.txt").read_text()

    model = ONNXLandmarks(path=Path(opts.run_dir) / "best.onnx", threads=1)
    assert [o.name for o in model.session.get_outputs()] == ["landmarks", "scores"]
    img, pts = synthetic_face(np.random.default_rng(3), 200)
    lm, sc = model.predict(img, tight_box(pts)[None])
    assert lm.shape == (1, 68, 2) and np.isfinite(lm).all()

    # the teacher loads frozen, in eval mode, with its own shape
    teacher = load_teacher(cfg.teacher)
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())
    assert teacher.cfg.fpn_channels == teacher_cfg.net.fpn_channels


def test_distill_loss_is_zero_on_the_teachers_own_points():
    from facealign.training.landmarks.config import TrainConfig
    from facealign.training.landmarks.losses import distill_loss

    cfg = TrainConfig()
    cfg.distill_heatmap_weight = 0.5
    lm = torch.rand(2, 68, 2) * 100
    hm = torch.randn(2, 68, 28, 28)
    loss, parts = distill_loss({"landmarks": lm, "heatmaps": hm}, {"landmarks": lm, "heatmaps": hm}, cfg)
    assert parts["kd_pts"] == 0.0
    # the heatmap term is the teacher's entropy there, and higher for any other student heatmap
    other, _ = distill_loss({"landmarks": lm, "heatmaps": hm.flip(-1)}, {"landmarks": lm, "heatmaps": hm}, cfg)
    assert float(other) > float(loss)
    with pytest.raises(ValueError, match="equal heatmap shapes"):
        distill_loss({"landmarks": lm, "heatmaps": hm[..., :14, :14]}, {"landmarks": lm, "heatmaps": hm}, cfg)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_upsample_modes_export_equal_to_torch(tmp_path, mode):
    from facealign.training.landmarks.config import NetConfig
    from facealign.training.landmarks.export import export_onnx

    net = LandmarkNet(NetConfig(widths=[8, 8, 16, 16, 24], depths=[1, 1, 1, 1], expand=2, fpn_channels=8,
                                head_blocks=1, feature_channels=0, upsample=mode)).eval()
    assert export_onnx(net, tmp_path / "m.onnx") < 1e-3
    with pytest.raises(ValueError, match="upsample"):
        LandmarkNet(NetConfig(upsample="bicubic"))
