"""The photo batch (`facealign align`) with hostile inputs, end to end on fake models: file names that are not
UTF-8 or hold a newline, multi-page files, a re-run into an output folder inside the input folder."""
from __future__ import annotations

import json
import os

import cv2
import numpy as np
import pytest
from helpers import BrightSquareDetector, MeanShapeLandmarks, squares_image
from PIL import Image

from facealign.cli.main import main
from facealign.jobs import photo
from facealign.pipeline import FaceAligner


@pytest.fixture(autouse=True)
def fake_models(monkeypatch):
    monkeypatch.setattr(photo, "batch_aligner", lambda opts: FaceAligner(BrightSquareDetector(), MeanShapeLandmarks()))


def _png(path: bytes | str) -> None:
    ok, buf = cv2.imencode(".png", squares_image([(20, 30, 60)]))
    with open(path, "wb") as f:
        f.write(buf.tobytes())


def _records(out) -> list[dict]:
    raw = (out / "results.jsonl").read_bytes()
    raw.decode("utf-8")  # the file is valid UTF-8 whatever the names were
    return [json.loads(line) for line in raw.splitlines()]


def test_odd_names_never_stop_the_batch(tmp_path, capfd):
    photos = tmp_path / "in"
    photos.mkdir()
    latin1 = os.fsencode(photos) + b"/caf\xe9.png"
    _png(latin1)
    _png(photos / "plain.png")
    (photos / "x\nfacealign: error: plain.png: forged.jpg").write_bytes(b"not an image")
    out = tmp_path / "out"
    assert main(["align", str(photos), "--out", str(out), "-q"]) == 1
    recs = {os.fsencode(r["image"]): r for r in _records(out)}
    assert latin1 in recs  # the JSON string maps back to the name's bytes (os.fsencode)
    assert recs[latin1]["error"] is None and len(recs[latin1]["faces"]) == 1
    assert (out / recs[latin1]["faces"][0]["crop"]).exists()
    err = capfd.readouterr().err.splitlines()
    assert len(err) == 2 and err[1] == "facealign: 1 of 3 inputs failed"
    assert err[0].startswith("facealign: error: ") and err[0].endswith(
        "x\\nfacealign: error: plain.png: forged.jpg: not an image, or an unsupported image format")
    # --resume finds the odd name in results.jsonl and skips it (only the failed input is retried)
    assert main(["align", str(photos), "--out", str(out), "-q", "--resume"]) == 1
    assert len(_records(out)) == 3 and "1 of 1 inputs failed" in capfd.readouterr().err


def test_multi_page_input_is_read_and_flagged(tmp_path, capsys):
    photos = tmp_path / "in"
    photos.mkdir()
    frames = [Image.fromarray(squares_image([(20, 30, 60)])[..., ::-1]) for _ in range(2)]
    frames[0].save(photos / "scan.tif", save_all=True, append_images=frames[1:])
    _png(photos / "one.png")
    out = tmp_path / "out"
    assert main(["align", str(photos), "--out", str(out), "-q"]) == 0
    by = {os.path.basename(r["image"]): r for r in _records(out)}
    assert by["scan.tif"]["warning"] == "TIFF file with 2 pages: only the first was read"
    assert len(by["scan.tif"]["faces"]) == 1 and "warning" not in by["one.png"]
    # also where a user sees it (even with -q, like errors): one line naming the file
    lines = [x for x in capsys.readouterr().err.splitlines() if "warning" in x]
    assert lines == [f"facealign: warning: {photos / 'scan.tif'}: TIFF file with 2 pages: only the first was read"]


def test_rerun_into_an_output_folder_inside_the_inputs(tmp_path):
    photos = tmp_path / "in"
    photos.mkdir()
    _png(photos / "a.png")
    out = photos / "out"  # `align in --out in/out`, twice: the first run's crops and overlay are not inputs
    for _ in range(2):
        assert main(["align", str(photos), "--out", str(out), "-q"]) == 0
        assert [os.path.basename(r["image"]) for r in _records(out)] == ["a.png"]
