"""Temporal fusion: One Euro, the temporal ONNX contract, the fusion runtime, sequences and a training smoke test."""
import numpy as np
import pytest

from facealign.alignment.templates import MEAN68
from facealign.runtime import registry
from facealign.temporal.fusion import TemporalFusion, TemporalModel
from facealign.temporal.normalise import to_face_frame, apply_batch, window_indices
from facealign.temporal.one_euro import OneEuroFilter, one_euro_sequence
from facealign.types import Face


def test_one_euro_reduces_jitter_of_a_noisy_constant():
    rng = np.random.default_rng(0)
    x = 5.0 + rng.normal(0, 0.5, 300)
    y = one_euro_sequence(x, np.arange(300) / 30.0, scale=10.0, min_cutoff=1.0, beta=0.5)
    assert np.abs(np.diff(y[50:])).mean() < 0.3 * np.abs(np.diff(x[50:])).mean()
    assert abs(y[50:].mean() - 5.0) < 0.1


def test_one_euro_follows_a_ramp():
    t = np.arange(120) / 30.0
    x = 20.0 * t  # 20 units per second
    y = one_euro_sequence(x, t, scale=10.0, min_cutoff=1.0, beta=1.5)
    assert abs(y[-1] - x[-1]) < 0.1 * 20.0  # lags less than 0.1 s
    f = OneEuroFilter()
    assert np.allclose(f(np.ones(3), 0.0), 1.0)  # first sample passes through


def test_window_indices_pad_edges_and_gaps():
    present = np.array([1, 1, 0, 1, 1, 1], bool)
    assert window_indices(present, 4, 3, 0).tolist() == [3, 3, 3, 4]  # frame 2 missing: stop at the gap
    assert window_indices(present, 0, 2, 2).tolist() == [0, 0, 0, 1, 1]
    assert window_indices(present, 5, 1, 2).tolist() == [4, 5, 5, 5]


def test_face_frame_maps_mean_shape_to_itself():
    a = np.radians(20)
    r = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    pts = (MEAN68 @ r.T) * 150 + [300, 200]
    m = to_face_frame(pts[None])
    assert np.allclose(apply_batch(m, pts[None]), MEAN68, atol=1e-9)


def _models():
    """The shipped temporal models."""
    return [registry.get(n).path for n in ("temporal-causal", "temporal-offline")]


@pytest.fixture(scope="module")
def fresh_models(tmp_path_factory):
    pytest.importorskip("torch")
    from facealign.training.temporal.export import export_onnx
    from facealign.training.temporal.net import TemporalNet

    d = tmp_path_factory.mktemp("temporal")
    export_onnx(TemporalNet(5, 0, hidden=16), d / "c.onnx")
    export_onnx(TemporalNet(3, 3, hidden=16), d / "o.onnx")
    return d / "c.onnx", d / "o.onnx"


def _check_contract(path):
    m = TemporalModel(path)
    assert m.window == m.past + 1 + m.future
    rng = np.random.default_rng(0)
    base = MEAN68 * 120 + [200, 150]
    lm = base + rng.normal(0, 1, (4, m.window, 68, 2))
    sc = rng.random((4, m.window, 68))
    out = m.refine(lm, sc)
    assert out.shape == (4, 68, 2) and np.isfinite(out).all()
    assert np.abs(out - lm[:, m.past]).mean() < 10  # a correction, not a new face
    x = np.zeros((2, m.window, 68, 3), np.float32)
    (y,) = m.session.run(None, {"window": x})
    assert y.shape == (2, 68, 2)
    return m


def test_shipped_temporal_models_contract():
    for p in _models():
        m = _check_contract(p)
        if "causal" in p.name:
            assert m.future == 0


def test_fresh_model_contract_and_causal_ignores_future(fresh_models):
    causal, offline = (_check_contract(p) for p in fresh_models)
    assert causal.future == 0 and offline.future == 3
    rng = np.random.default_rng(1)
    base = MEAN68 * 100 + [150, 150]

    def run(model, future_shift):
        fus = TemporalFusion("causal" if model.future == 0 else "offline", model=model)
        outs = {}
        for i in range(12):
            lm = base + rng.normal(0, 0.5, (68, 2)) + (future_shift if i > 6 else 0)
            for idx, _, faces, _ in fus.push(i, i / 30, [Face(box=np.zeros(4), score=1, landmarks=lm, track=0)]):
                outs[idx] = faces[0].landmarks.copy()
        for idx, _, faces, _ in fus.flush():
            outs[idx] = faces[0].landmarks.copy()
        return outs

    rng = np.random.default_rng(1)
    a = run(causal, 0.0)
    rng = np.random.default_rng(1)
    b = run(causal, 40.0)
    assert all(np.allclose(a[i], b[i]) for i in range(7))  # frames 0..6 do not see frames 7+
    rng = np.random.default_rng(1)
    c = run(offline, 0.0)
    assert sorted(c) == list(range(12))  # the delay buffer returns every frame, in order, after flush


def test_sequences_labels_move_with_the_image():
    pytest.importorskip("yaml")
    from facealign.data.sequences import SequenceConfig, render_sequence

    img = np.zeros((200, 200, 3), np.uint8)
    pts = MEAN68 * 100 + [100, 100]
    for p in pts[[30, 36, 45, 48, 54]]:
        img[int(round(p[1])) - 2 : int(round(p[1])) + 3, int(round(p[0])) - 2 : int(round(p[0])) + 3] = 255
    cfg = SequenceConfig(frames=6, noise=(0, 0.01), p_blur=0, p_jpeg=0, brightness=0)
    rng = np.random.default_rng(0)
    frames, gt = render_sequence(img, pts, rng, cfg, "fast")
    assert frames.shape == (6, 192, 192, 3) and gt.shape == (6, 68, 2)
    for f, g in zip(frames, gt):
        for k in (30, 36, 45):
            x, y = np.round(g[k]).astype(int)
            if 0 <= x < 192 and 0 <= y < 192:  # fast motion may carry a point out of the frame
                assert f[y, x].max() > 60
    _, still = render_sequence(img, pts, rng, cfg, "still")
    assert np.allclose(still, still[0])


def test_training_smoke(tmp_path):
    pytest.importorskip("torch")
    from facealign.training.temporal.config import TrainConfig
    from facealign.training.temporal.train import train_one

    rng = np.random.default_rng(0)
    s, n = 12, 16
    drift = np.cumsum(rng.normal(0, 0.5, (s, n, 1, 2)), axis=1)
    gt = MEAN68 * 100 + [120, 120] + drift * (np.arange(s) % 2 == 1)[:, None, None, None]
    pred = gt + rng.normal(0, 1.0, gt.shape)
    data = {"gt": gt.astype(np.float32), "pred": pred.astype(np.float32),
            "scores": np.ones((s, n, 68), np.float32), "kind": (np.arange(s) % 2).astype(np.int8)}
    cfg = TrainConfig(steps=5, batch_size=8)
    cfg.net.hidden = 8
    net, metrics, finished = train_one(cfg, 4, 0, data, data, lambda m: None, "causal")
    assert {"off", "causal"} <= set(metrics) and finished
    assert np.isfinite(metrics["causal"]["nme"])

    # a spent time budget stops after one step with a checkpoint; resuming from it finishes the steps
    from facealign.training.common.run import TimeBudget

    saved = []
    _, _, finished = train_one(cfg, 4, 0, data, data, lambda m: None, "causal", save=saved.append,
                               budget=TimeBudget(1e-6))
    assert not finished and saved[-1].step == 1 and saved[-1].scheduler is not None
    _, metrics, finished = train_one(cfg, 4, 0, data, data, lambda m: None, "causal", state=saved[-1],
                                     save=saved.append)
    assert finished and saved[-1].step == 5 and np.isfinite(metrics["causal"]["nme"])


def _fake_sequences(s: int = 12, n: int = 16) -> dict:
    rng = np.random.default_rng(0)
    drift = np.cumsum(rng.normal(0, 0.5, (s, n, 1, 2)), axis=1)
    gt = MEAN68 * 100 + [120, 120] + drift * (np.arange(s) % 2 == 1)[:, None, None, None]
    pred = gt + rng.normal(0, 1.0, gt.shape)
    return {"gt": gt.astype(np.float32), "pred": pred.astype(np.float32),
            "scores": np.ones((s, n, 68), np.float32), "kind": (np.arange(s) % 2).astype(np.int8),
            "fps": np.float32(30.0)}


def test_training_run_exports_into_its_run_folder_and_resumes(tmp_path, monkeypatch):
    """The whole temporal run on stand-in sequences: both exports, checkpoints and logs in the run folder."""
    pytest.importorskip("torch")
    import facealign.evaluation.tracked_sequences as tracked
    from facealign.training.common import checkpoint
    from facealign.training.common.run import RunOptions
    from facealign.training.temporal.config import TrainConfig
    from facealign.training.temporal.train import train

    monkeypatch.setattr(tracked, "cached_sequences", lambda *a, **k: _fake_sequences())
    cfg = TrainConfig(batch_size=8)
    cfg.net.hidden, cfg.net.past, cfg.net.offline_past, cfg.net.offline_future = 8, 4, 2, 2
    run = tmp_path / "run"
    results = train(cfg, RunOptions(run_dir=run, steps=5), echo=None, progress=False)
    assert {"causal", "offline", "one_euro"} <= set(results)
    for tag in ("causal", "offline"):
        assert (run / f"temporal_{tag}.onnx").is_file() and checkpoint.load(run / f"last_{tag}.pt").step == 5
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2
    train(cfg, RunOptions(run_dir=run, steps=8, resume=True), echo=None, progress=False)
    assert "causal: resumed at step 5" in (run / "log.txt").read_text()
    assert checkpoint.load(run / "last_offline.pt").step == 8
