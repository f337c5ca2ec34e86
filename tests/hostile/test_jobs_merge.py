"""`facealign merge`: memory independent of the number of photos, --size range-checked, --out never an input."""
from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from helpers import BrightSquareDetector, MeanShapeLandmarks, squares_image

from facealign.cli.main import main
from facealign.jobs import merge as merge_job
from facealign.merge.mean import MeanFusion
from facealign.pipeline import FaceAligner


@pytest.fixture
def fakes(monkeypatch):
    monkeypatch.setattr(merge_job, "merge_aligner", lambda opts: FaceAligner(BrightSquareDetector(), MeanShapeLandmarks()))


def _photos(folder, n):
    folder.mkdir()
    for i in range(n):
        cv2.imwrite(str(folder / f"p{i}.png"), squares_image([(40 + i, 40, 90)]))
    return folder


@pytest.mark.parametrize("size", ["0", "-5", "4000", "abc"])
def test_size_out_of_range_exits_2(tmp_path, size, capsys):
    rc = None
    try:
        rc = main(["merge", str(tmp_path), "--out", str(tmp_path / "m.png"), "--size", size])
    except SystemExit as e:  # argparse: not a number
        rc = e.code
    assert rc == 2 and "Traceback" not in capsys.readouterr().err


def test_out_equal_to_an_input_is_refused_before_any_work(tmp_path, fakes, capsys):
    src = _photos(tmp_path / "in", 2)
    before = (src / "p0.png").read_bytes()
    assert main(["merge", str(src), "--out", str(src / "p0.png"), "-q"]) == 2
    assert main(["merge", str(src / "p1.png"), str(tmp_path / "x_median.png"), "--out", str(tmp_path / "x.png"), "-q",
                 "--method", "mean"]) == 2
    assert "would overwrite the input" in capsys.readouterr().err
    assert (src / "p0.png").read_bytes() == before


@pytest.mark.parametrize("victim", ["x_texture.png", "x.obj", "x.mtl"])
def test_out_whose_3d_mesh_files_would_overwrite_an_input_is_refused(tmp_path, fakes, capsys, victim):
    """--method 3d also writes FILE.obj, FILE.mtl and FILE_texture.png beside FILE: none may be an input."""
    src = _photos(tmp_path / "in", 2)
    target = src / victim
    target.write_bytes((src / "p0.png").read_bytes())
    before = target.read_bytes()
    assert main(["merge", str(src / "p1.png"), str(target), "--out", str(src / "x.png"), "--method", "3d", "-q"]) == 2
    assert "would overwrite the input" in capsys.readouterr().err
    assert target.read_bytes() == before and not (src / "x.png").exists()
    paths = merge_job.MergeOptions(out=str(src / "x.png"), method="3d").output_paths()
    assert {p.name for p in paths.values()} == {"x.png", "x.json", "x.obj", "x.mtl", "x_texture.png"}


def test_merge_of_generated_photos(tmp_path, fakes):
    src = _photos(tmp_path / "in", 5)
    out = tmp_path / "m.png"
    assert main(["merge", str(src), "--out", str(out), "--size", "64", "-q"]) == 0
    assert json.loads(out.with_suffix(".json").read_text())["merged"] == 5
    assert cv2.imread(str(out)).shape == (64, 64, 3)


def _peak_rss_mb(n: int) -> float:
    code = f"""
import resource, numpy as np
from facealign.merge.mean import MeanFusion
rng = np.random.default_rng(0)
crop = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
with MeanFusion(256) as f:
    for i in range({n}):
        f.add(crop)
    r = f.result()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def test_fusion_memory_does_not_grow_with_the_number_of_photos():
    # the contact sheet is near its largest size (50 MB) by 200 photos; 400 more crops in memory would be 78 MB
    small, large = _peak_rss_mb(200), _peak_rss_mb(600)
    assert large - small < 30


def test_streamed_median_is_the_median():
    rng = np.random.default_rng(1)
    crops = [rng.integers(0, 256, (16, 16, 3), dtype=np.uint8) for _ in range(6)]
    masks = [(rng.random((16, 16)) > 0.3).astype(np.uint8) for _ in range(6)]
    with MeanFusion(16) as f:
        for c, m in zip(crops, masks):
            f.add(c, m)
        got = f.result()
    stack = np.where(np.stack(masks)[..., None] > 0, np.stack(crops).astype(float), np.nan)
    with np.errstate(all="ignore"):
        want = np.nan_to_num(np.nanmedian(stack, axis=0))
    assert np.array_equal(got.median, np.clip(np.rint(want), 0, 255).astype(np.uint8))
