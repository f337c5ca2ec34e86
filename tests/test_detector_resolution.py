"""The detector's resolution policy: pyramid levels, tiles, and faces found once across tile edges."""
import math

import numpy as np

from facealign.detection import resolution as rs
from facealign.detection.ssdlite import SSDLiteDetector


def test_levels_match_the_two_pass_rule_for_small_photos():
    assert rs.levels(480, 640) == [rs.Level(1, 0.0, rs.LARGE_MAX), rs.Level(3, rs.LARGE_MIN / 3, math.inf)]
    assert rs.levels(300, 380) == [rs.Level(1, 0.0, math.inf)]
    assert rs.levels(480, 640, large_faces=False) == [rs.Level(1, 0.0, math.inf)]
    big = rs.levels(3000, 4000)
    assert [lv.factor for lv in big] == [1, 3, 9, 27]  # 4000 -> 1333 -> 444 -> 148
    assert all(lv.max_size == rs.LARGE_MAX for lv in big[:-1]) and big[-1].max_size == math.inf


def test_tiles_cover_with_overlap_and_bounded_side():
    assert rs.tiles(480, 640) == [(0, 0, 480, 640)]
    for h, w in [(3000, 4000), (2049, 2049), (9000, 700)]:
        t = rs.tiles(h, w)
        assert all(y1 - y0 <= rs.TILE_SIDE and x1 - x0 <= rs.TILE_SIDE for y0, x0, y1, x1 in t)
        cover = np.zeros((h, w), bool)
        for y0, x0, y1, x1 in t:
            cover[y0:y1, x0:x1] = True
        assert cover.all()
        xs = sorted({(x0, x1) for _, x0, _, x1 in t})
        for (a0, a1), (b0, b1) in zip(xs, xs[1:]):
            assert a1 - b0 >= rs.TILE_OVERLAP - 1


def test_inner_edge_mask_keeps_image_edges():
    boxes = np.array([[0, 0, 20, 20], [100, 100, 130, 130], [480, 10, 511, 40]], float)
    assert rs.inner_edge_mask(boxes, (0, 0, 512, 512), 512, 512).all()  # one tile: all edges are the image's
    assert rs.inner_edge_mask(boxes, (0, 0, 512, 512), 512, 1000).tolist() == [True, True, False]


class _FaceEverywhereSession:
    """A fake network that 'sees' fixed faces of the original photo in whatever tile or level it is given."""

    def __init__(self, faces, image):
        self.faces, self.image, self.calls = faces, image, []

    def run(self, names, feeds):
        from tests.test_detector_runtime import _synthetic_outputs

        x = feeds["input"][0]
        self.calls.append(x.shape)
        # find where the tile came from: tiles are views of level 0 here (the test photo is all different pixels)
        h, w = x.shape[:2]
        found = []
        for (box, kps) in self.faces:
            pos = np.argwhere((self.image[:, :, 0] == x[0, 0, 0]) & (self.image[:, :, 1] == x[0, 0, 1])
                              & (self.image[:, :, 2] == x[0, 0, 2]))
            if len(pos) != 1:
                continue
            y0, x0 = pos[0]
            b = box - [x0, y0, x0, y0]
            if b[0] >= -2 and b[1] >= -2 and b[2] < w + 2 and b[3] < h + 2:
                found.append((np.clip(b, 0, [w - 1, h - 1, w - 1, h - 1]), kps - [x0, y0]))
            elif b[2] > 0 and b[3] > 0 and b[0] < w and b[1] < h:  # a cut face: a fragment at the tile edge
                found.append((np.clip(b, 0, [w - 1, h - 1, w - 1, h - 1]), kps - [x0, y0]))
        s, tb, tk = _synthetic_outputs(h, w, found)
        return [s[None], tb[None], tk[None]]


def test_a_face_on_a_tile_seam_is_found_once():
    h, w = 600, 4200  # one level-0 row of three tiles
    # unique pixels so the fake session can tell where a tile starts
    idx = np.arange(h * w)
    img = np.stack([idx % 256, (idx // 256) % 256, idx // 65536], -1).astype(np.uint8).reshape(h, w, 3)
    spans = rs.tiles(h, w)
    seam = spans[1][1] + 20  # inside the overlap of tiles 0 and 1, near tile 1's left edge
    box = np.array([seam - 30, 200, seam + 30, 260], float)
    c = (box[:2] + box[2:]) / 2
    kps = np.array([c + [-12, -10], c + [12, -10], c, c + [-10, 15], c + [10, 15]])
    d = SSDLiteDetector.__new__(SSDLiteDetector)
    d.det_size, d.score_threshold, d.nms_iou, d.max_faces, d.large_faces = None, 0.5, 0.4, 100, False
    d.session = _FaceEverywhereSession([(box, kps)], img)
    faces = d.detect(img)
    assert len(d.session.calls) == len(spans) == 3
    assert len(faces) == 1
    np.testing.assert_allclose(faces[0].box, box, atol=1.0)
