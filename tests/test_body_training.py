"""A few training steps of the body network on tiny generated people (no real training, no shared data)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from facealign.alignment.body_points import BONES, JOINTS  # noqa: E402
from facealign.data.body import BodyRecord  # noqa: E402
from facealign.training.body.config import BodyTrainConfig  # noqa: E402
from facealign.training.body.data import BodySet, make_val_set  # noqa: E402
from facealign.training.body.net import BodyNetConfig  # noqa: E402
from facealign.training.body.train import train  # noqa: E402
from facealign.training.common.run import RunOptions  # noqa: E402

STICK = np.array([[40, 150], [42, 120], [44, 90], [56, 90], [58, 120], [60, 150], [25, 85], [30, 65], [38, 45],
                  [62, 45], [70, 65], [75, 85], [50, 40], [50, 15]], float)


def stick_people(n: int, seed: int, upper: bool = False) -> BodySet:
    rng = np.random.default_rng(seed)
    recs, images = [], []
    for i in range(n):
        img = np.full((170, 100, 3), 40, np.uint8)
        j = STICK + rng.normal(0, 3, STICK.shape)
        for a, b in BONES:
            cv2.line(img, tuple(int(v) for v in j[a]), tuple(int(v) for v in j[b]), (200, 180, 160), 3)
        mask = np.ones(14, bool)
        if upper:
            mask[:6] = False
        recs.append(BodyRecord(Path(f"p{i}.png"), j, mask, mask.copy(), {"mid_hip": j[[2, 3]].mean(0)} if upper else None))
        images.append(img)
    return BodySet("buffy_tiny" if upper else "tiny", recs, images)


def tiny_config() -> BodyTrainConfig:
    cfg = BodyTrainConfig(samples_per_epoch=8, batch_size=4, epochs=2, ema_decay=0.9)
    cfg.net = BodyNetConfig(input_size=64, widths=[8, 8, 16, 16, 24], depths=[1, 1, 1, 1], expand=2,
                            fpn_channels=16, head_blocks=1)
    cfg.data.weights = {"tiny": 1.0, "buffy_tiny": 1.0}
    return cfg


def test_training_smoke_exports_checkpoints_and_resumes(tmp_path):
    cfg = tiny_config()
    sets = ([stick_people(6, 0), stick_people(4, 1, upper=True)],
            [make_val_set(stick_people(3, 2), cfg.net.input_size)])
    run = tmp_path / "run"
    best = train(cfg, RunOptions(run_dir=run, epochs=1, steps=2), log=lambda m: None, sets=sets)
    assert 0.0 <= best["score"] <= 1.0 and len(best["pck_joints_tiny"]) == len(JOINTS)
    for f in ("last.pt", "best.pt", "best.onnx", "log.txt", "metrics.jsonl"):
        assert (run / f).is_file(), f
    train(cfg, RunOptions(run_dir=run, resume=True, epochs=2, steps=2), log=lambda m: None, sets=sets)
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2  # the resumed run added epoch 1 only

    from facealign.runtime.session import create_session

    sess = create_session(run / "best.onnx", 1)
    x = np.zeros((2, 64, 64, 3), np.uint8)
    kp, sc, hm = sess.run(None, {"input": x})
    assert kp.shape == (2, 14, 2) and sc.shape == (2, 14) and hm.shape == (2, 14, 16, 16)


def test_augmented_joints_follow_the_pixels():
    """Flip, rotation and box jitter move the drawn dots exactly as they move the joints."""
    from facealign.training.body.augment import augment

    cfg = tiny_config()
    s = stick_people(1, 3)
    img = np.zeros_like(s.images[0])
    cv2.circle(img, tuple(int(round(v)) for v in s.records[0].joints[0]), 2, (0, 0, 255), -1)
    cv2.circle(img, tuple(int(round(v)) for v in s.records[0].joints[13]), 2, (0, 255, 0), -1)
    s.images[0] = img
    cfg.aug.p_colour = cfg.aug.p_blur = cfg.aug.p_noise = cfg.aug.p_occlude = cfg.aug.p_jpeg = 0.0
    cfg.aug.p_grey = cfg.aug.p_lowres = 0.0
    cfg.aug.p_flip = 1.0
    rng = np.random.default_rng(0)
    for _ in range(5):
        crop, pts, mask = augment(s, 0, 64, cfg.aug, rng)
        for joint, ch in ((5, 2), (13, 1)):  # flipped: the red dot is now the left ankle
            if not mask[joint]:
                continue
            ys, xs = np.nonzero(crop[..., ch] > 60)
            if len(xs):
                assert np.hypot(xs.mean() - pts[joint, 0], ys.mean() - pts[joint, 1]) < 1.5
