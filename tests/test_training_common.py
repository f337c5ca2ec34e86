"""The shared training parts: config loader, schedule, EMA, run log, time budget, checkpoints (old files too)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from facealign.training.common import checkpoint  # noqa: E402
from facealign.training.common.config import ConfigError, from_dict, load_config  # noqa: E402
from facealign.training.common.ema import EMA  # noqa: E402
from facealign.training.common.run import RunOptions, TimeBudget  # noqa: E402
from facealign.training.common.runlog import RunLog, read_metrics  # noqa: E402
from facealign.training.common.schedule import WarmupCosine  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CHECKPOINTS = REPO / "checkpoints"


@dataclass
class _Inner:
    size: tuple[float, float] = (1.0, 2.0)
    name: str = "a"


@dataclass
class _Outer:
    steps: int = 3
    inner: _Inner = field(default_factory=_Inner)


def test_config_nested_sections_tuples_and_unknown_keys(tmp_path):
    cfg = from_dict(_Outer, {"steps": 5, "inner": {"size": [3, 4]}})
    assert cfg.steps == 5 and cfg.inner.size == (3, 4) and cfg.inner.name == "a"
    f = tmp_path / "c.yaml"
    f.write_text("steps: 1\ninner:\n  nmae: b\n")
    with pytest.raises(ConfigError, match=r"c\.yaml\.inner: unknown key\(s\) nmae"):
        load_config(f, _Outer)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml", _Outer)


@pytest.mark.parametrize("name", ["landmarks", "landmarks_finetune", "landmarks_fast", "landmarks_smoke",
                                  "detector", "detector_smoke", "temporal"])
def test_every_config_loads_without_machine_paths_or_clock_times(name):
    import importlib

    module = {"d": "detection", "l": "landmarks", "t": "temporal"}[name[0]]
    path = REPO / "configs" / f"{name}.yaml"
    importlib.import_module(f"facealign.training.{module}.config").load_config(path)
    text = path.read_text()
    for bad in ("/work", "../shared", "deadline", "facealign/models", "session", "issue"):
        assert bad not in text, f"{path.name} mentions {bad!r}"


def test_schedule_warmup_cosine_fit_and_restart():
    s = WarmupCosine(1.0, warmup=10, end=110, floor=0.01)
    assert s(0) == pytest.approx(0.1) and s(9) == pytest.approx(1.0)
    assert s(10) == pytest.approx(1.0) and s(60) == pytest.approx(0.505) and s(110) == pytest.approx(0.01)
    assert s(500) == pytest.approx(0.01)
    s.fit(60, 10)  # a time budget: the decay ends 10 steps later
    assert s.end == 70 and s(70) == pytest.approx(0.01) and s(60) > s(65) > s(70)
    s.restart(200, 300, peak=0.5, warmup=0)
    assert s(200) == pytest.approx(0.5) and s(300) == pytest.approx(0.01)
    t = WarmupCosine(1.0, 10, 0)
    t.load_state_dict(s.state_dict())
    assert t(250) == s(250)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.0)
    assert s.apply(opt, 250) == opt.param_groups[0]["lr"] == s(250)


def test_ema_follows_the_weights():
    net = torch.nn.Linear(2, 1)
    ema = EMA(net, 0.5)
    with torch.no_grad():
        net.weight.fill_(1.0)
    for step in range(50):
        ema.update(net, step)
    assert torch.allclose(ema.model.weight, net.weight, atol=1e-6)
    assert not any(p.requires_grad for p in ema.model.parameters())


def test_run_log_text_and_json_lines(tmp_path):
    seen = []
    log = RunLog(tmp_path / "run", echo=seen.append)
    log("hello\nworld")
    log.metrics({"epoch": 1, "nme": torch.tensor(2.5)})
    lines = (tmp_path / "run" / "log.txt").read_text().splitlines()
    assert len(lines) == 2 and lines[0].endswith(" hello") and lines[0][:4].isdigit()
    assert read_metrics(tmp_path / "run") == [{"epoch": 1, "nme": 2.5}] and seen == ["hello\nworld"]
    json.loads((tmp_path / "run" / "metrics.jsonl").read_text())


def test_time_budget_and_run_options(tmp_path, monkeypatch):
    now = [0.0]
    b = TimeBudget(2, clock=lambda: now[0])
    assert b.limited and not b.spent() and b.steps_left(10) == 12
    now[0] = 120.0
    assert b.spent() and b.steps_left(10) == 0
    assert not TimeBudget(0).limited and TimeBudget(0).steps_left(1) is None
    e = TimeBudget(10, clock=lambda: now[0])  # started at 120 s
    now[0] = 120.0 + 150.0  # epochs 3 and 4 of a run resumed at 3 took 150 s: 75 s each, 450 s left
    assert e.epochs_that_fit(5, 3, 20) == 11 and e.epochs_that_fit(5, 3, 8) == 8
    assert TimeBudget(0).epochs_that_fit(5, 3, 20) == 20
    monkeypatch.setenv("FACEALIGN_RUNS", str(tmp_path))
    assert RunOptions().folder("landmarks") == tmp_path / "landmarks"
    assert RunOptions(run_dir="x").folder("landmarks") == Path("x")
    with pytest.raises(ValueError, match="resume"):
        RunOptions(restart=True)
    with pytest.raises(ValueError, match="budget"):
        RunOptions(time_budget_min=-1)


def test_checkpoint_round_trip(tmp_path):
    ck = checkpoint.Checkpoint(model={"w": torch.ones(2)}, ema={"w": torch.zeros(2)}, epoch=3, step=30,
                               best={"score": 1.0}, config={"seed": 0}, extra={"train_s": 5.0})
    checkpoint.save(tmp_path / "last.pt", ck)
    back = checkpoint.load(tmp_path / "last.pt")
    assert back.epoch == 3 and back.step == 30 and back.extra == {"train_s": 5.0}
    assert torch.equal(back.weights["w"], torch.zeros(2))
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(Exception):
        checkpoint.load(tmp_path / "bad.pt")


def _need(name: str) -> Path:
    p = CHECKPOINTS / name
    if not p.is_file():
        pytest.skip(f"{p} is absent")
    return p


@pytest.mark.parametrize("name", ["landmarks_last.pt", "landmarks_best.pt", "landmarks_fast_last.pt",
                                  "landmarks_fast_best.pt"])
def test_old_landmark_checkpoints_load(name):
    from facealign.training.landmarks.config import net_config
    from facealign.training.landmarks.net import LandmarkNet
    from facealign.training.landmarks.train import load_teacher

    ck = checkpoint.load(_need(name))
    net = LandmarkNet(net_config(ck.config["net"]))
    net.load_state_dict(ck.model)
    net.load_state_dict(ck.weights)
    assert ck.epoch > 0 and ck.best
    if name.endswith("_last.pt"):
        assert ck.step > 0 and ck.ema is not None
        torch.optim.AdamW(net.parameters()).load_state_dict(ck.optimizer)
    assert not load_teacher(_need(name)).training


@pytest.mark.parametrize("name", ["detector_last.pt", "detector_best.pt"])
def test_old_detector_checkpoints_load(name):
    from facealign.training.detection.net import SSDLiteNet

    ck = checkpoint.load(_need(name))
    net = SSDLiteNet(tuple(ck.config["widths"]), ck.config["fpn"])
    net.load_state_dict(ck.model)
    assert ck.epoch > 0 and "ap50" in ck.best
    if name == "detector_last.pt":
        assert ck.step > 0 and "rng" in ck.extra and ck.extra["train_s"] > 0
        torch.optim.AdamW(net.parameters()).load_state_dict(ck.optimizer)


def test_resume_from_an_old_checkpoint_continues(tmp_path):
    """The shipped fast model's last.pt (older layout) resumes: one more epoch of one tiny step on generated data."""
    import shutil

    from test_landmark_training import tiny_sets

    from facealign.training.landmarks.config import load_config as load_landmarks
    from facealign.training.landmarks.train import train

    src = _need("landmarks_fast_last.pt")
    run = tmp_path / "run"
    run.mkdir()
    shutil.copyfile(src, run / "last.pt")
    old = checkpoint.load(src)
    cfg = load_landmarks(REPO / "configs" / "landmarks_fast.yaml")
    cfg.teacher, cfg.max_steps, cfg.batch_size, cfg.samples_per_epoch, cfg.threads = "", 1, 4, 4, 1
    cfg.data.weights = {}
    train(cfg, RunOptions(run_dir=run, resume=True, epochs=old.epoch + 1), sets=tiny_sets(), echo=None)
    new = checkpoint.load(run / "last.pt")
    assert new.epoch == old.epoch + 1 and new.step == old.step + 1 and new.scheduler is not None
    assert f"resumed from {run / 'last.pt'} at epoch {old.epoch}" in (run / "log.txt").read_text()


def test_train_command_runs_and_reports_bad_configs(tmp_path, capsys):
    from facealign.cli.main import main

    run = tmp_path / "det"
    assert main(["train", "detector", "--config", str(REPO / "configs" / "detector_smoke.yaml"),
                 "--run-dir", str(run)]) == 0
    assert (run / "best.onnx").is_file() and "best:" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("epochs: 1\ndeadline: '04:28'\n")
    assert main(["train", "landmarks", "--config", str(bad), "--run-dir", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml: unknown key(s) deadline" in err and "Traceback" not in err


def test_train_command_without_torch_says_what_is_missing(tmp_path):
    import subprocess
    import sys

    code = ("import sys; sys.modules['torch'] = None\n"
            "from facealign.cli.main import main\n"
            "sys.exit(main(['train', 'landmarks', '--config', 'configs/landmarks.yaml']))\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "needs the 'torch' package" in r.stderr and "Traceback" not in r.stderr
