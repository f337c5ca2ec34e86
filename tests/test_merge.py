"""`facealign merge`: photos of one person become one aligned composite (real shipped models)."""
import json

import cv2
import numpy as np

from facealign.merge.mean import contact_sheet, merge_crops
from facealign.cli.main import main

from helpers import SAMPLE


def test_merge_crops_ignores_pixels_outside_the_photos():
    a = np.full((8, 8, 3), 100, np.uint8)
    b = np.full((8, 8, 3), 200, np.uint8)
    mask_b = np.zeros((8, 8), np.uint8)
    mask_b[:, :4] = 255  # b covers only the left half
    m = merge_crops([a, b], [np.full((8, 8), 255, np.uint8), mask_b])
    assert m.mean[0, 0, 0] == 150 and m.mean[0, 7, 0] == 100
    assert m.count == 2 and m.sheet.shape[0] > 8
    assert contact_sheet([a] * 5, columns=2).shape == (3 * 10 + 2, 2 * 10 + 2, 3)


def test_merge_command_on_variants_of_the_sample(tmp_path):
    img = cv2.imread(str(SAMPLE))
    paths = []
    for i, m in enumerate([img, img[:, ::-1], cv2.resize(img, None, fx=0.8, fy=0.8)]):
        p = tmp_path / f"p{i}.jpg"
        cv2.imwrite(str(p), np.ascontiguousarray(m))
        paths.append(p)
    (tmp_path / "bad.jpg").write_bytes(b"")
    out = tmp_path / "merged.png"
    code = main(["merge", *map(str, paths), str(tmp_path / "bad.jpg"), "--out", str(out), "-q",
                 "--method", "mean"])
    assert code == 1  # one input failed, the others merged
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["merged"] == 3 and report["inputs"][-1]["error"] == "empty file (0 bytes)"
    merged = cv2.imread(str(out))
    assert merged.shape == (256, 256, 3)
    for suffix in ("_median", "_sheet"):
        assert (tmp_path / f"merged{suffix}.png").exists()
    # the three aligned faces agree: the mean composite is sharp where a face is (not a blur of misaligned faces)
    crops = cv2.imread(str(tmp_path / "merged_sheet.png"))
    assert crops is not None and merged[96:160, 96:160].std() > 10
