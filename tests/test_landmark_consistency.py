"""The semi-supervised consistency loss of the landmark trainer (facealign/training/landmarks/consistency.py):
exact transport of teacher points between views, the loss, its config key (off by default) and a smoke run."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from facealign.alignment.points import FLIP68, five_from_68  # noqa: E402
from facealign.training.landmarks.augment import geometric_view  # noqa: E402
from facealign.training.landmarks.config import AugConfig, ConsistencyConfig, TrainConfig, load_config  # noqa: E402
from facealign.training.landmarks.consistency import (  # noqa: E402
    View,
    consistency_loss,
    consistency_targets,
    map_points,
    map_values,
    teacher_aug,
)
from tests.test_landmark_training import smoke_config, synthetic_face, tiny_sets  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
STRONG = AugConfig(rotate=45.0, p_rotate=1.0, p_flip=0.5, shift=0.1, scale=0.12)


def _views(seed: int, n_points: int = 68):
    """Two random views (the student's strong one, the teacher's mild one) of one synthetic face."""
    rng = np.random.default_rng(seed)
    img, pts = synthetic_face(rng, 176)
    if n_points == 5:
        pts = five_from_68(pts)
    _, pb, mb, fb = geometric_view(img, pts, 112, STRONG, rng)
    _, pa, ma, fa = geometric_view(img, pts, 112, teacher_aug(ConsistencyConfig(p_flip=0.5)), rng)
    return (pa, View(ma, fa)), (pb, View(mb, fb))


@pytest.mark.parametrize("n_points", [68, 5])
@pytest.mark.parametrize("seed", range(8))
def test_points_carried_between_views_exactly(seed, n_points):
    """The labelled points of view A carried into view B are view B's own labelled points (whatever the flips),
    and back again."""
    (pa, va), (pb, vb) = _views(seed, n_points)
    assert np.allclose(map_points(pa, va, vb), pb, atol=1e-3)
    assert np.allclose(map_points(pb, vb, va), pa, atol=1e-3)
    assert np.allclose(map_points(map_points(pa, va, vb), vb, va), pa, atol=1e-4)


def test_mirror_permutation():
    """A mirrored view swaps left and right: the carried point k is the image point FLIP68[k], mirrored."""
    w = 100
    plain = View(np.array([[1.0, 0, 0], [0, 1.0, 0]]), False)
    mirror = View(np.array([[-1.0, 0, w - 1], [0, 1.0, 0]]), True)
    pts = np.random.default_rng(0).uniform(0, w - 1, (68, 2))
    out = map_points(pts, plain, mirror)
    assert np.allclose(out[:, 0], w - 1 - pts[FLIP68, 0]) and np.allclose(out[:, 1], pts[FLIP68, 1])
    assert np.array_equal(FLIP68[FLIP68], np.arange(68))  # the permutation is an involution
    assert np.allclose(out[36], [w - 1 - pts[45, 0], pts[45, 1]])  # outer eye corners swap
    vals = np.arange(68.0)
    assert np.array_equal(map_values(vals, plain, mirror), FLIP68) and map_values(vals, plain, plain) is vals


def test_loss_is_zero_when_the_student_matches_the_teacher():
    cfg = TrainConfig()
    ccfg = ConsistencyConfig(weight=1.0)
    target = torch.rand(3, 68, 2) * 100
    out = {"landmarks": target.clone(), "heatmaps": torch.zeros(3, 68, 28, 28)}
    loss, parts = consistency_loss(out, target, torch.rand(3, 68), 8, cfg, ccfg)
    assert float(loss) == 0.0 and parts["cons_pts"] == 0.0
    off = {"landmarks": target + 5.0, "heatmaps": out["heatmaps"]}
    assert float(consistency_loss(off, target, torch.ones(3, 68), 8, cfg, ccfg)[0]) > 0
    assert float(consistency_loss(off, target, torch.zeros(3, 68), 8, cfg, ccfg)[0]) == 0  # confidence masks


def test_targets_follow_the_teacher_and_its_confidence():
    """A teacher that always answers the same crop points gives targets equal to those points carried from its
    view; points under min_score get weight 0."""

    class Fixed(torch.nn.Module):
        def forward(self, image):
            n = len(image)
            pts = torch.linspace(20, 90, 136).reshape(1, 68, 2).repeat(n, 1, 1)
            scores = torch.linspace(0, 1, 68).repeat(n, 1)
            return {"landmarks": pts, "scores": scores}

    rng = np.random.default_rng(3)
    img, pts = synthetic_face(rng, 176)
    _, pb, mb, fb = geometric_view(img, five_from_68(pts), 112, STRONG, rng)
    ccfg = ConsistencyConfig(weight=1.0, min_score=0.5)
    t_rng = np.random.default_rng(9)
    target, weight = consistency_targets(Fixed(), [(img, five_from_68(pts), View(mb, fb))], 112, ccfg, t_rng)
    _, _, ma, fa = geometric_view(img, five_from_68(pts), 112, teacher_aug(ccfg), np.random.default_rng(9))
    teacher_pts = Fixed()(torch.zeros(1, 112, 112, 3))["landmarks"][0].numpy()
    assert np.allclose(target[0], map_points(teacher_pts, View(ma, fa), View(mb, fb)), atol=1e-3)
    conf = map_values(np.linspace(0, 1, 68), View(ma, fa), View(mb, fb))
    assert np.allclose(weight[0], np.where(conf >= 0.5, conf, 0), atol=1e-6)


def test_config_key_defaults_off():
    assert TrainConfig().consistency.weight == 0 and TrainConfig().consistency.heatmap_weight == 0
    for name in ["landmarks.yaml", "landmarks_profiling_2.yaml", "landmarks_smoke.yaml", "landmarks_semi_base.yaml"]:
        assert load_config(REPO / "configs" / name).consistency.weight == 0, name
    semi = load_config(REPO / "configs" / "landmarks_semi.yaml")
    base = load_config(REPO / "configs" / "landmarks_semi_base.yaml")
    assert semi.consistency.weight > 0
    prior = load_config(REPO / "configs" / "landmarks_semi_prior.yaml")
    assert prior.consistency.shape_prior > 0 and semi.consistency.shape_prior == 0
    prior.consistency.shape_prior = 0
    assert prior.to_dict() == semi.to_dict()  # the prior arm adds the shape prior only
    semi.consistency = base.consistency
    assert semi.to_dict() == base.to_dict()  # the two ablation arms differ in the consistency key only


def test_smoke_training_with_consistency(tmp_path):
    """A few steps with the key (and the shape prior) on: the consistency term is logged and the run finishes
    with its export."""
    from facealign.training.landmarks.train import train

    cfg, opts = smoke_config(tmp_path)
    cfg.consistency = ConsistencyConfig(weight=1.0, heatmap_weight=0.3, min_score=0.0, shape_prior=0.5)
    best = train(cfg, opts, sets=tiny_sets(), echo=None)
    assert np.isfinite(best["train_loss"]) and np.isfinite(best["train_cons_pts"]) and best["train_cons_w"] > 0
    lines = (Path(opts.run_dir) / "metrics.jsonl").read_text().splitlines()
    assert all("train_cons_hm" in json.loads(x) for x in lines)
    assert (Path(opts.run_dir) / "best.onnx").is_file()


def test_student_batches_do_not_depend_on_the_key():
    """The ablation is fair: the student's crops and targets are the same stream with the key on or off."""
    from facealign.training.landmarks.train import make_batch

    train_sets, _ = tiny_sets()
    cfg = TrainConfig()
    plan = np.array([[0, 1], [1, 2], [1, 3], [0, 4]])
    a = make_batch(train_sets, plan, cfg, np.random.default_rng(4))
    cfg.consistency.weight = 1.0
    b = make_batch(train_sets, plan, cfg, np.random.default_rng(4))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert a["matrix"].shape == (4, 2, 3) and a["flipped"].dtype == torch.bool


def test_shape_prior_keeps_a_model_face_and_sure_points():
    """The prior of a face the model can explain is that face (within a pixel); a sure point does not move, an
    unsure one moves to the prior; strength 0 changes nothing."""
    from facealign.alignment.templates import MEAN68
    from facealign.training.landmarks.shape_prior import project_on_fit, pull_to_prior

    prior = project_on_fit(MEAN68 * 60 + 26, np.ones(68), 112)
    assert np.linalg.norm(project_on_fit(prior, np.ones(68), 112) - prior, axis=1).mean() < 0.5
    noisy = prior + np.random.default_rng(0).normal(0, 2, prior.shape)
    conf = np.r_[np.ones(34), np.zeros(34)]
    pulled = pull_to_prior(noisy, conf, 112, 1.0)
    assert np.allclose(pulled[:34], noisy[:34])
    assert np.allclose(pulled[34:], project_on_fit(noisy, conf, 112)[34:])
    assert np.allclose(pull_to_prior(noisy, conf, 112, 0.0), noisy)
    assert ConsistencyConfig().shape_prior == 0
