"""`facealign bench` and facealign.evaluation.speed on a tiny configuration with stand-in models (no timing asserted)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from facealign.cli import bench
from facealign.cli.main import build_parser
from facealign.evaluation import speed
from facealign.pipeline import FaceAligner
from helpers import BrightSquareDetector, MeanShapeLandmarks, squares_image

REPO = Path(__file__).resolve().parents[1]


def fake_aligner(threads: int) -> FaceAligner:
    return FaceAligner(BrightSquareDetector(), MeanShapeLandmarks(), threads=threads)


def test_photos_have_the_asked_sizes():
    photos = speed.standard_photos(sizes=[(320, 240)])
    assert [p.name for p in photos] == ["one-face", "many-faces"]
    for p in photos:
        img = speed.cv2.imdecode(np.frombuffer(p.jpeg, np.uint8), speed.cv2.IMREAD_COLOR)
        assert img.shape == (240, 320, 3)


def test_stages_are_timed_and_faces_counted():
    img = squares_image([(20, 20, 40), (120, 30, 50), (200, 100, 40)])
    photo = speed.Photo("squares", speed.encode(img, 100), img.shape[1], img.shape[0])
    rows = speed.run_benchmark([photo], threads=(1,), runs=3, warmup=1, fit3d=False, make_aligner=fake_aligner)
    (row,) = rows
    assert row.faces == 3 and row.threads == 1
    assert set(row.median) == {"decode", "detect", "landmarks", "align", "pipeline"}
    assert all(v >= 0 for v in row.median.values()) and row.fps > 0
    table = speed.format_table(rows)
    assert "| squares | 300x200 | 1 | 3 |" in table


def test_bench_command_prints_a_table_and_saves_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    args = build_parser().parse_args(
        ["bench", "--runs", "2", "--warmup", "0", "--threads", "1", "--sizes", "320x240", "--no-3d", "-q",
         "--json", str(out)]
    )
    assert args.func is bench.run
    assert bench.run(args, make_aligner=fake_aligner) == 0
    text = capsys.readouterr().out
    assert "pipeline fps" in text
    assert text.count("| 320x240 | 1 |") == 2  # one-face and many-faces rows
    doc = json.loads(out.read_text())
    assert len(doc["rows"]) == 2 and "onnxruntime" in doc["environment"]


def test_bad_arguments_exit_2(capsys):
    args = build_parser().parse_args(["bench", "--runs", "0"])
    assert bench.run(args, make_aligner=fake_aligner) == 2


def test_bench_with_shipped_models(capsys):
    args = build_parser().parse_args(
        ["bench", "--runs", "1", "--warmup", "0", "--threads", "1", "--sizes", "320x240", "--batches", "2", "-q"]
    )
    assert bench.run(args) == 0
    assert "landmark network alone" in capsys.readouterr().out


def test_speed_compare_table_states_versions_threads_and_ratio(tmp_path):
    import importlib.util

    path = REPO / "benchmarks" / "speed_compare.py"
    spec = importlib.util.spec_from_file_location("speed_compare", path)
    sc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sc)
    env = {"cores": 2, "cpu": "x86_64", "load_avg_1min": 0.1, "date_utc": "2026-01-01 00:00:00"}
    res = [
        {"label": "facealign (det 640)", "threads": 1, "version": "0.1.0", "results": {"a.jpg": {"median_ms": 2.0, "faces": 1}}},
        {"label": "mediapipe face mesh", "threads": 1, "version": "0.10.21", "results": {"a.jpg": {"median_ms": 4.0, "faces": 1}}},
        {"label": "dlib HOG only", "threads": 1, "error": "not installed (peers/dlib)"},
    ]
    md = sc.markdown(res, ["a.jpg"], env, 30)
    assert "| mediapipe face mesh | 0.10.21 | 1 | 4.0 ms, 250 fps [1] |" in md
    assert "not installed" in md and "2.00x" in md
    sc.plot(res, ["a.jpg"], tmp_path / "speed.png")
    assert (tmp_path / "speed.png").stat().st_size > 1000


def test_bench_times_what_align_runs():
    """The bench's detect + landmarks are one FaceAligner.detect call: the landmark check (verify) applies, so a
    detection the check drops is not counted, as in `align`."""
    img = squares_image([(20, 20, 40), (120, 30, 50)])
    photo = speed.Photo("squares", speed.encode(img, 100), img.shape[1], img.shape[0])

    class Unsure(MeanShapeLandmarks):
        def predict(self, image, boxes, angles=None):
            lm, sc = super().predict(image, boxes, angles)
            sc = np.asarray(sc, np.float64).copy()
            sc[1:] = 0.1  # every face but the first fails the check
            return lm, sc

    fa = FaceAligner(BrightSquareDetector(), Unsure())
    (row,) = speed.run_benchmark([photo], threads=(1,), runs=2, warmup=0, fit3d=False, make_aligner=lambda t: fa)
    assert row.faces == len(fa.detect(speed.cv2.imdecode(np.frombuffer(photo.jpeg, np.uint8), 1))) == 1
