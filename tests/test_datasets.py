"""Data set readers: on small generated files (always) and on the shared fixtures (skipped when absent)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from facealign.data import (
    WFLW98_TO_68, Sample, eval_schema, five_points, load_spec, parse_spec, read_coco, read_dlib_xml, read_ljson,
    read_mtfl, read_pts_file, read_pts_folder, read_wflw, to_eval,
)
from facealign.paths import data_root

DATA = data_root()
FIX = DATA / "fixtures"
needs_fixtures = pytest.mark.skipif(not FIX.is_dir(), reason=f"shared fixtures not found at {FIX}")

PTS68 = np.stack([np.arange(68) * 2.0 + 10, np.arange(68) * 1.5 + 20], axis=1)  # distinct, 0-based


def _pts_text(p: np.ndarray, one_based: bool = True) -> str:
    q = p + (1 if one_based else 0)
    return "version: 1\nn_points: %d\n{\n%s\n}\n" % (len(q), "\n".join(f"{x:.3f} {y:.3f}" for x, y in q))


def _touch_image(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not decoded by the readers")


# ---- generated files ------------------------------------------------------------------------------------------

def test_pts_folder_recursive_one_based(tmp_path):
    for rel in ("a/face1", "b/c/face2"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f"{rel}.pts").write_text(_pts_text(PTS68))
        _touch_image(tmp_path / f"{rel}.jpg")
    (tmp_path / "orphan.pts").write_text(_pts_text(PTS68))  # no image: skipped
    s = read_pts_folder(tmp_path)
    assert [x.id for x in s] == ["a/face1", "b/c/face2"]
    assert s[0].schema == "ibug68" and s[0].image.name == "face1.jpg"
    np.testing.assert_allclose(s[0].points, PTS68)  # 1-based file -> 0-based points


def test_pts_header_mismatch_raises(tmp_path):
    f = tmp_path / "x.pts"
    f.write_text("version: 1\nn_points: 5\n{\n1 2\n3 4\n}\n")
    with pytest.raises(ValueError, match="header says 5"):
        read_pts_file(f)


def test_mtfl_table(tmp_path):
    (tmp_path / "t.txt").write_text(
        "lfw\\a.jpg 11 21 15 12 22 31 32 40 51 52 1 2 2 3\n"
        " AFLW/b.jpg 1 2 3 4 5 6 7 8 9 10 2 1 1 5\n"
    )
    s = read_mtfl(tmp_path / "t.txt")
    assert len(s) == 2 and s[0].schema == "five"
    assert s[0].image == tmp_path / "lfw" / "a.jpg"
    np.testing.assert_allclose(s[0].points, [[10, 30], [20, 31], [14, 39], [11, 50], [21, 51]])
    assert s[0].attributes == {"gender": 1, "smile": 2, "glasses": 2, "pose": 3}
    assert s[1].attributes["pose"] == 5


def test_celeba_table(tmp_path):
    (tmp_path / "l.txt").write_text(
        "1\nlefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y\n"
        "000001.jpg 69 109 106 113 77 142 73 152 108 154\n"
    )
    s = read_mtfl(tmp_path / "l.txt")
    np.testing.assert_allclose(s[0].points[0], [69, 109])
    np.testing.assert_allclose(s[0].points[4], [108, 154])


def test_wflw_table(tmp_path):
    pts = np.stack([np.arange(98) * 1.0, np.arange(98) * 2.0], 1)
    line = " ".join(f"{v:.3f}" for v in pts.ravel()) + " 1 2 300 400 0 1 0 0 1 0 3--Riot/img.jpg"
    ann = tmp_path / "WFLW_annotations" / "list_98pt_rect_attr_train_test"
    ann.mkdir(parents=True)
    (ann / "list_98pt_rect_attr_test.txt").write_text(line + "\n" + line + "\n")
    _touch_image(tmp_path / "WFLW_images" / "3--Riot" / "img.jpg")
    s = read_wflw(ann / "list_98pt_rect_attr_test.txt")
    assert s[0].image == tmp_path / "WFLW_images" / "3--Riot" / "img.jpg"
    assert [x.id for x in s] == ["3--Riot/img.jpg", "3--Riot/img.jpg#1"]
    assert s[0].schema == "wflw98" and s[0].attributes["expression"] == 1 and s[0].attributes["occlusion"] == 1
    np.testing.assert_allclose(s[0].box, [1, 2, 300, 400])
    assert eval_schema("wflw98") == "ibug68"
    np.testing.assert_allclose(to_eval(s[0].points, "wflw98"), pts[WFLW98_TO_68])


def test_wflw_98_to_68_map_is_a_valid_subset():
    assert len(WFLW98_TO_68) == 68 and len(set(WFLW98_TO_68.tolist())) == 68
    assert WFLW98_TO_68[0] == 0 and WFLW98_TO_68[16] == 32 and WFLW98_TO_68[36] == 60 and WFLW98_TO_68[45] == 72
    assert WFLW98_TO_68[48] == 76 and WFLW98_TO_68[67] == 95


def test_coco_keypoints(tmp_path):
    kp5 = [10, 20, 2, 30, 20, 2, 20, 30, 1, 12, 40, 0, 28, 40, 2]
    doc = {
        "images": [{"id": 7, "file_name": "im/x.png", "width": 50, "height": 50}],
        "annotations": [
            {"image_id": 7, "id": 1, "keypoints": kp5, "bbox": [5, 10, 30, 35]},
            {"image_id": 7, "id": 2, "keypoints": kp5},
            {"image_id": 7, "id": 3, "keypoints": []},  # no points: skipped
        ],
    }
    (tmp_path / "a.json").write_text(json.dumps(doc))
    s = read_coco(tmp_path / "a.json")
    assert len(s) == 2 and s[0].schema == "five" and [x.id for x in s] == ["im/x.png", "im/x.png#1"]
    np.testing.assert_allclose(s[0].points[1], [30, 20])  # COCO is 0-based: taken as is
    assert s[0].visible.tolist() == [True, True, True, False, True]
    np.testing.assert_allclose(s[0].box, [5, 10, 35, 45])


def test_dlib_xml(tmp_path):
    parts = "".join(f"<part name='{i:02d}' x='{int(x)}' y='{int(y)}'/>" for i, (x, y) in enumerate(PTS68))
    (tmp_path / "l.xml").write_text(
        "<?xml version='1.0'?><dataset><images>"
        f"<image file='a/b.jpg'><box top='5' left='6' width='100' height='90'>{parts}</box>"
        "<box top='1' left='1' width='10' height='10' ignore='1'/></image>"
        "</images></dataset>"
    )
    s = read_dlib_xml(tmp_path / "l.xml")
    assert len(s) == 1 and s[0].schema == "ibug68" and s[0].image == tmp_path / "a" / "b.jpg"
    np.testing.assert_allclose(s[0].points, np.floor(PTS68))
    np.testing.assert_allclose(s[0].box, [6, 5, 105, 94])


def test_ljson_v3_swaps_to_xy(tmp_path):
    yx = PTS68[:, ::-1].tolist()
    doc = {"version": 3, "groups": {
        "pupils": {"landmarks": {"points": [[1, 2], [3, 4]], "connectivity": []}, "labels": []},
        "LJSON": {"landmarks": {"points": yx, "connectivity": []}, "labels": []},
    }}
    (tmp_path / "f.ljson").write_text(json.dumps(doc))
    _touch_image(tmp_path / "f.png")
    s = read_ljson(tmp_path)
    assert len(s) == 1 and s[0].schema == "ibug68"
    np.testing.assert_allclose(s[0].points, PTS68)
    s2 = read_ljson(tmp_path / "f.ljson", group=None)
    np.testing.assert_allclose(s2[0].points, PTS68)


def test_spec_parser(tmp_path):
    s = parse_spec("pts:/data/300w/afw")
    assert s.kind == "pts" and s.name == "300w/afw"
    s = parse_spec("mine=mtfl:/x/val.txt")
    assert s.name == "mine" and s.kind == "mtfl"
    with pytest.raises(ValueError, match="unknown kind"):
        parse_spec("xyz:/a")
    with pytest.raises(ValueError, match="KIND:PATH"):
        parse_spec("/just/a/path")
    with pytest.raises(FileNotFoundError):
        parse_spec(f"pts:{tmp_path / 'missing'}").load()


def test_sample_checks_point_count():
    with pytest.raises(ValueError, match="68 points"):
        Sample(image=Path("a.jpg"), points=np.zeros((5, 2)), schema="ibug68")


def test_five_points_rules():
    p = np.arange(106 * 2, dtype=float).reshape(106, 2)
    np.testing.assert_allclose(five_points(p, "lapa106")[0], p[104])
    p19 = np.arange(38, dtype=float).reshape(19, 2)
    np.testing.assert_allclose(five_points(p19, "aflw19")[2], p19[13])
    np.testing.assert_allclose(five_points(PTS68, "ibug68")[0], PTS68[36:42].mean(0))


# ---- real fixtures -------------------------------------------------------------------------------------------

@needs_fixtures
@pytest.mark.parametrize(
    "spec, n, schema",
    [
        ("coco:300w/test_300w.json", 2, "ibug68"),
        ("wflw:wflw/test_wflw.json", 4, "wflw98"),
        ("coco:cofw/test_cofw.json", 2, "cofw29"),
        ("coco:aflw/test_aflw.json", 2, "aflw19"),
        ("coco:lapa/test_lapa.json", 2, "lapa106"),
        ("coco:300vw/anno_300vw.json", 3, "ibug68"),
        ("pts:300vw", 4, "ibug68"),
        ("pts:menpo", 3, "ibug68"),
        ("ljson:menpo", 1, "ibug68"),
    ],
)
def test_fixture_readers(spec, n, schema):
    kind, rel = spec.split(":")
    _, s = load_spec(f"{kind}:{FIX / rel}")
    assert len(s) == n and all(x.schema == schema for x in s)
    assert all(x.image.exists() for x in s)
    for x in s:
        g = to_eval(x.points, x.schema)
        assert np.isfinite(g).all()
        if len(g) == 68:  # a plausible face: eyes above the mouth, left eye left of the right eye
            assert g[36, 0] < g[45, 0] and g[36:48, 1].mean() < g[48:68, 1].mean()
        else:
            assert g[0, 0] < g[1, 0] and g[:2, 1].mean() < g[3:, 1].mean()


@needs_fixtures
def test_menpo_ljson_matches_its_own_pupils():
    # lenna.ljson also stores the pupils: the 68-point eye centres must lie near them (checks the y, x swap)
    doc = json.loads((FIX / "menpo" / "lenna.ljson").read_text())
    pupils = np.array(doc["groups"]["pupils"]["landmarks"]["points"])[:, ::-1]
    s = read_ljson(FIX / "menpo" / "lenna.ljson")[0]
    eyes = five_points(s.points, "ibug68")[:2]
    io = np.linalg.norm(eyes[0] - eyes[1])
    assert np.linalg.norm(eyes - pupils, axis=1).max() < 0.2 * io


@pytest.mark.skipif(not (DATA / "mtfl" / "val.txt").exists(), reason="shared MTFL data not found")
def test_mtfl_val_reads():
    s = read_mtfl(DATA / "mtfl" / "val.txt")
    assert len(s) == 1995 and {x.attributes["pose"] for x in s} <= {1, 2, 3, 4, 5}
    assert s[0].image.exists()
