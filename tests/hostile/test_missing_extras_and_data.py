"""An install without the train extra, and runs without the data: one clear line and exit 2 (or 1), never a
traceback, an "unrecognized arguments", an empty report with exit 0, or an empty data set cached for later runs."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from facealign.alignment.templates import MEAN68
from facealign.cli.main import main

REPO = Path(__file__).resolve().parents[2]

# `facealign ARGS` as after `pip install .` without the train extra: torch, onnx and PyYAML cannot be imported
WITHOUT_TRAIN_EXTRA = """
import importlib.abc, sys
class _Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("torch", "torchvision", "onnx", "yaml"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _Missing())
from facealign.cli.main import main
raise SystemExit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("args", [
    ["train", "detector", "--config", str(REPO / "configs" / "detector.yaml")],
    ["train", "landmarks", "--config", "X"],
    ["train", "temporal", "--config", "X", "--steps", "3"],
    ["train", "body", "--config", str(REPO / "configs" / "body.yaml")],
])
def test_train_without_the_train_extra_is_one_line_and_exit_2(tmp_path, args):
    p = subprocess.run([sys.executable, "-c", WITHOUT_TRAIN_EXTRA, *args], capture_output=True, text=True,
                       timeout=120, cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'facealign[train]'" in lines[0] and f"train {args[1]}" in lines[0], p.stderr
    assert not list(tmp_path.iterdir())  # no run folder


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("FACEALIGN_DATA", str(root))
    monkeypatch.setenv("FACEALIGN_CACHE", str(tmp_path / "cache"))
    return root


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_eval_detector_without_data_is_one_line_and_exit_2(tmp_path, no_data, capsys):
    assert main(["eval", "detector", "--out", str(tmp_path / "d")]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "data not found" in line and str(no_data / "ytf68" / "val") in line
    assert not (tmp_path / "d").exists() and not (tmp_path / "cache").exists()


def test_eval_detector_on_empty_data_folders_is_one_line(tmp_path, no_data, capsys):
    """The folders are there but hold nothing: caught where it is found, still one line (no traceback)."""
    (no_data / "ytf68" / "val").mkdir(parents=True)
    (no_data / "mtfl").mkdir()
    (no_data / "mtfl" / "val.txt").write_text("")
    assert main(["eval", "detector", "--out", str(tmp_path / "d")]) == 1
    assert "no readable labelled images" in _one_line(capsys.readouterr().err)
    assert not (tmp_path / "d").exists() and not list((tmp_path / "cache").rglob("*.pkl"))


@pytest.mark.parametrize("parts, message", [("synthetic,real,speed", "labelled folders are not there"),
                                            ("real,speed", "no .mp4 videos")])
def test_eval_video_without_data_writes_no_report(tmp_path, no_data, capsys, parts, message):
    assert main(["eval", "video", "--out", str(tmp_path / "v"), "--parts", parts]) == 2
    assert message in _one_line(capsys.readouterr().err)
    assert not (tmp_path / "v").exists()


def _labelled_face(folder: Path, name: str) -> None:
    """One image with its 68-point .pts file (1-based, as 300-W)."""
    folder.mkdir(parents=True, exist_ok=True)
    pts = MEAN68 * 60 + [80, 80]
    img = np.full((160, 160, 3), 90, np.uint8)
    cv2.imwrite(str(folder / f"{name}.png"), img)
    body = "\n".join(f"{x + 1:.3f} {y + 1:.3f}" for x, y in pts)
    (folder / f"{name}.pts").write_text(f"version: 1\nn_points: 68\n{{\n{body}\n}}\n")


def test_a_source_without_faces_is_an_error_and_nothing_is_cached(tmp_path, monkeypatch):
    """Detector crops: one source is an empty folder, another has a face (its .pts without the image in a third):
    building the set fails naming the source, and no cache file is left for a later run to reuse."""
    from facealign.data import face_crops

    root = tmp_path / "data"
    _labelled_face(root / "good", "a")
    (root / "empty").mkdir()
    _labelled_face(root / "orphans", "b")
    (root / "orphans" / "b.png").unlink()  # the annotation without its image
    cache = tmp_path / "cache"
    for bad in ["empty", "orphans"]:
        monkeypatch.setattr(face_crops, "VAL_SOURCES", ("good", bad))
        with pytest.raises(FileNotFoundError, match=f"{bad}: no readable labelled faces"):
            face_crops.load_split("val", root, cache)
        assert not cache.exists() or not list(cache.iterdir())
    monkeypatch.setattr(face_crops, "VAL_SOURCES", ("good",))
    faces, _ = face_crops.load_split("val", root, cache)
    assert len(faces) == 1 and len(list(cache.iterdir())) == 1


def test_an_empty_landmark_set_is_an_error_and_not_cached(tmp_path, monkeypatch):
    from facealign.data import landmark_crops

    _labelled_face(tmp_path / "data" / "orphans", "b")
    (tmp_path / "data" / "orphans" / "b.png").unlink()  # the annotation without its image
    monkeypatch.setitem(landmark_crops.LANDMARK_SETS, "hostile_empty", ("pts", ["orphans"]))
    with pytest.raises(FileNotFoundError, match="hostile_empty: no readable labelled faces"):
        landmark_crops.load_set("hostile_empty", tmp_path / "data", tmp_path / "cache", 32, 1.4)
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").iterdir())


def test_video_stills_from_a_folder_without_faces_are_an_error(tmp_path):
    """The synthetic sequences (eval video, temporal training) are cached: a val folder without faces fails."""
    from facealign.data.sequences import load_stills

    _labelled_face(tmp_path / "good", "a")
    (tmp_path / "empty").mkdir()
    assert len(load_stills(tmp_path, ["good"])) == 1
    with pytest.raises(FileNotFoundError, match="empty: no labelled 68-point faces"):
        load_stills(tmp_path, ["good", "empty"])
