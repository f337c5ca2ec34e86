"""`facealign merge --method warp|3d`: the report contract and the files written (real shipped models)."""
import json

import cv2
import numpy as np
import pytest

from facealign.cli.main import main
from facealign.jobs.merge import MergeOptions
from facealign.jobs.merge_methods import parse_pose
from facealign.jobs.options import OptionsError

from helpers import SAMPLE


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    d = tmp_path_factory.mktemp("photos")
    img = cv2.imread(str(SAMPLE))
    h, w = img.shape[:2]
    paths = []
    for i, (angle, scale) in enumerate([(0, 1.0), (6, 0.9), (-5, 1.1), (3, 0.8)]):
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
        p = d / f"p{i}.jpg"
        cv2.imwrite(str(p), cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT))
        paths.append(str(p))
    (d / "bad.jpg").write_bytes(b"")
    return d, paths


def _check_report(report, n_ok):
    assert report["merged"] == n_ok and report["left_out"] == 0
    ok = [e for e in report["inputs"] if not e["error"]]
    assert len(ok) == n_ok
    for e in ok:
        assert e["used"] is True and e["left_out"] is None
        assert set(e["quality"]) == {"resolution", "sharpness", "frontalness", "confidence", "weight"}
        assert e["fit_error"] is not None and "yaw" in e["pose"]
    bad = [e for e in report["inputs"] if e["error"]]
    assert len(bad) == 1 and "used" not in bad[0]


def test_warp_method_writes_the_composite_and_a_report(photos, tmp_path):
    d, paths = photos
    out = tmp_path / "w.png"
    code = main(["merge", *paths, str(d / "bad.jpg"), "--out", str(out), "--method", "warp", "-q"])
    assert code == 1  # one input failed, the others merged
    assert cv2.imread(str(out)).shape == (256, 256, 3) and (tmp_path / "w_sheet.png").exists()
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["method"] == "warp"
    _check_report(report, 4)


def test_3d_method_writes_the_textured_mesh(photos, tmp_path):
    d, paths = photos
    out = tmp_path / "f.png"
    code = main(["merge", *paths, str(d / "bad.jpg"), "--out", str(out), "--method", "3d", "--pose", "20,0,0",
                 "-q", "--size", "128"])
    assert code == 1
    img = cv2.imread(str(out))
    assert img.shape == (128, 128, 3) and img.std() > 10
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["method"] == "3d" and report["pose"] == {"yaw": 20.0, "pitch": 0.0, "roll": 0.0}
    _check_report(report, 4)
    obj = (tmp_path / "f.obj").read_text()
    assert "mtllib f.mtl" in obj and "\nvt " in obj and "\nf " in obj
    assert "map_Kd f_texture.png" in (tmp_path / "f.mtl").read_text()
    assert cv2.imread(str(tmp_path / "f_texture.png")).shape[2] == 3


def test_options_are_checked_up_front(tmp_path):
    with pytest.raises(OptionsError):
        MergeOptions(out=str(tmp_path / "x.png"), method="warp", template="arcface112").validate()
    with pytest.raises(OptionsError):
        MergeOptions(out=str(tmp_path / "x.png"), method="mean", pose="10,0,0").validate()
    with pytest.raises(OptionsError):
        parse_pose("10,nope,0")
    assert parse_pose("10,-5,2") == (10.0, -5.0, 2.0)
    assert main(["merge", str(SAMPLE), "--out", str(tmp_path / "x.png"), "--method", "3d", "--pose", "1,2"]) == 2
