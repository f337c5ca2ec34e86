"""Face profiling (facealign.training.profiling) on generated faces: a model face drawn at a known pose over a
random texture, its 68 points where the model puts them (no data files)."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from facealign.data.profiled import read_profiled, yaw_bin
from facealign.face3d.fit import default_fitter
from facealign.face3d.pose import rotation_from_angles
from facealign.training.profiling.build import pts_text, sample_pose
from facealign.training.profiling.render import Profiler, outline_choice
from facealign.training.profiling.tps import background_maps

W = H = 200
SCALE = 6.0  # pixels per cm: a face about 90 px wide
ORIGIN = np.array([100.0, 95.0])


def _texture(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (25, 25, 3)).astype(np.uint8)
    return cv2.resize(small, (W, H), interpolation=cv2.INTER_CUBIC)


def _labels(yaw: float, pitch: float) -> np.ndarray:
    """The model's 68 points of the mean face at a pose, 300-W style (the jaw on the visible outline)."""
    m = default_fitter().model
    rot = rotation_from_angles(yaw, pitch, 0.0)
    c = m.coeffs()
    lm = m.landmarks.shape(c).T
    cont = m.contour.shape(c).T
    jaw = cont[outline_choice(rot, cont, m.contour_lines)]
    pts3 = np.vstack([jaw, lm[17:]]) @ rot.T
    return SCALE * pts3[:, :2] + ORIGIN


@pytest.fixture(scope="module")
def prof() -> Profiler:
    return Profiler()


def test_zero_rotation_gives_the_photo_back(prof):
    img = _texture()
    pts = _labels(10.0, -5.0)
    src = prof.prepare((W, H), pts)
    v = prof.render(img, src, src.pose[0], src.pose[1])
    assert np.abs(v.points2d - pts).max() < 0.5
    diff = np.abs(v.image.astype(np.float64) - img)
    assert diff.mean() < 1.0
    assert np.median(diff[v.face_mask]) < 1.0


def test_points_are_the_projected_model_vertices(prof):
    """The 3D points of a new view are the model's landmark vertices turned to that pose (up to the fit's error),
    the 2D inner points are the same, and the face is drawn where the points are."""
    img = _texture(1)
    pts = _labels(0.0, 0.0)
    src = prof.prepare((W, H), pts)
    m = default_fitter().model
    iod = np.linalg.norm(pts[36] - pts[45])
    for yaw, pitch in [(45.0, 0.0), (75.0, 20.0), (-60.0, -15.0)]:
        v = prof.render(img, src, yaw, pitch, roll=0.0, recentre=False)
        rot = rotation_from_angles(yaw, pitch, 0.0)
        truth = (m.landmarks.shape(m.coeffs()).T @ rot.T)[:, :2] * SCALE + ORIGIN
        err = np.linalg.norm(v.points3d[:, :2] - truth, axis=1)
        assert err.mean() < 0.05 * iod, (yaw, err.mean() / iod)
        assert np.allclose(v.points2d[17:], v.points3d[17:, :2])
        assert abs(v.yaw - yaw) < 1e-6 and abs(v.pitch - pitch) < 1e-6
        # the visible inner points lie on the drawn face (the nose tip and lips may be on its outline)
        for x, y in np.rint(v.points2d[[30, 33, 51, 57]]).astype(int):
            assert v.face_mask[y - 1 : y + 2, x - 1 : x + 2].any()


def test_hidden_side_jaw_points_move_to_the_silhouette(prof):
    img = _texture(2)
    pts = _labels(0.0, 0.0)
    src = prof.prepare((W, H), pts)
    v = prof.render(img, src, 60.0, 0.0, roll=0.0, recentre=False)
    # yaw > 0: the nose goes to the image right, so the subject's left (points 9-16, image right) turns away
    moved = v.points2d[:17, 0] - v.points3d[:17, 0]
    assert np.all(moved[10:16] > 1.0), moved  # the far jaw points slide outwards, onto the outline
    assert np.allclose(moved[1:7], 0.0)  # the near side keeps its own vertices
    # on the outline: inside the drawn face a little inwards, outside it a little outwards (along the row)
    for x, y in v.points2d[10:16]:
        yi = int(round(y))
        assert v.face_mask[yi, int(round(x - 3))]
        assert not v.face_mask[yi, int(round(x + 4))]
    # and the 3D ones are where they are: hidden, inside the face
    for x, y in v.points3d[11:15, :2]:
        assert v.face_mask[int(round(y)), int(round(x))]


def test_background_warp_is_the_identity_without_a_move_and_follows_control_points():
    rng = np.random.default_rng(0)
    p = rng.uniform(30, 150, (40, 2))
    for method in ("harmonic", "idw", "tps"):
        mx, my = background_maps(p, p, (W, H), method=method)
        xx, yy = np.meshgrid(np.arange(W), np.arange(H))
        assert np.abs(mx - xx).max() < 0.1 and np.abs(my - yy).max() < 0.1, method
    mx, my = background_maps(p, p + [4.0, -3.0], (W, H))
    c = np.rint(p[0]).astype(int)
    assert abs(mx[c[1], c[0]] - (c[0] + 4)) < 1.5 and abs(my[c[1], c[0]] - (c[1] - 3)) < 1.5
    assert abs(mx[0, 0]) < 0.5 and abs(my[H - 1, W - 1] - (H - 1)) < 0.5  # the border stays


def test_pose_sampling_keeps_the_turn_direction_and_ranges():
    rng = np.random.default_rng(0)
    for k in range(200):
        yaw, pitch = sample_pose((25.0, 5.0, 0.0), k % 2, 2, rng)
        assert 35.0 <= yaw <= 90.0 and -40.0 <= pitch <= 40.0
        yaw, pitch = sample_pose((-40.0, -30.0, 3.0), k % 2, 2, rng)
        assert -90.0 <= yaw <= -50.0 and -40.0 <= pitch <= -10.0


def test_written_views_read_back_with_both_conventions(tmp_path, prof):
    img = _texture(3)
    src = prof.prepare((W, H), _labels(5.0, 0.0))
    v = prof.render(img, src, 70.0, 10.0)
    cv2.imwrite(str(tmp_path / "a_v0.jpg"), v.image)
    (tmp_path / "a_v0.pts").write_text(pts_text(v.points2d))
    (tmp_path / "a_v0.json").write_text(json.dumps({"yaw": v.yaw, "pitch": v.pitch, "roll": v.roll,
                                                    "points3d": v.points3d.tolist(), "source": "x/a"}))
    (tmp_path / "b_v0.pts").write_text(pts_text(v.points2d))  # unfinished: no JSON
    cv2.imwrite(str(tmp_path / "b_v0.jpg"), v.image)
    samples = read_profiled(tmp_path)
    assert [s.id for s in samples] == ["a_v0"]
    s = samples[0]
    assert np.abs(s.points - v.points2d).max() < 1e-3
    assert s.attributes["pose"] == 5 and s.attributes["points3d"].shape == (68, 3)
    assert [yaw_bin(y) for y in (-80, -45, 0, 45, 80)] == [1, 2, 3, 4, 5]


def test_generated_sets_load_as_landmark_sets_from_the_cache_folder(tmp_path, monkeypatch, prof):
    """LANDMARK_SETS' profiled sets are read from the cache folder, with yaw bins as pose, and their crop cache
    is keyed by the number of finished views (a set built further gets new crops)."""
    from facealign.data.landmark_crops import load_set

    monkeypatch.setenv("FACEALIGN_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "cache" / "profiling" / "v1" / "300w_afw"
    folder.mkdir(parents=True)
    img = _texture(4)
    src = prof.prepare((W, H), _labels(0.0, 0.0))

    def write(name: str, yaw: float) -> None:
        v = prof.render(img, src, yaw, 0.0)
        cv2.imwrite(str(folder / f"{name}.jpg"), v.image)
        (folder / f"{name}.pts").write_text(pts_text(v.points2d))
        (folder / f"{name}.json").write_text(json.dumps({"yaw": v.yaw, "pitch": v.pitch, "roll": v.roll,
                                                         "points3d": v.points3d.tolist()}))

    write("a_v0", -70.0)
    write("a_v1", 45.0)
    crops = tmp_path / "crops"
    fs = load_set("300w_afw_profiled", tmp_path, crops, 64, 1.4)
    assert len(fs) == 2 and fs.n_points == 68 and list(fs.pose) == [1, 4]
    write("b_v0", 0.0)
    assert len(load_set("300w_afw_profiled", tmp_path, crops, 64, 1.4)) == 3


@pytest.mark.parametrize("yaw", [0.0, 40.0, -65.0])
def test_3d_convention_targets_of_labelled_faces(prof, yaw):
    """The 3D-convention targets made for 300-W-style labels: inner points stay the labels, the jaw goes where the
    model's own jaw vertices are (off the visible outline when the head is turned)."""
    from facealign.training.landmarks.points3d import semantic_points

    pts = _labels(yaw, 10.0)
    got = semantic_points(pts[None], W, prof)[0]
    m = default_fitter().model
    truth = (m.landmarks.shape(m.coeffs()).T @ rotation_from_angles(yaw, 10.0, 0.0).T)[:, :2] * SCALE + ORIGIN
    iod = np.linalg.norm(truth[36] - truth[45])
    assert np.abs(got[17:] - pts[17:]).max() < 0.5
    assert np.linalg.norm(got[:17] - truth[:17], axis=1).mean() < 0.05 * iod
    if abs(yaw) > 30:  # the hidden side's jaw is no longer on the outline
        assert np.linalg.norm(pts[:17] - truth[:17], axis=1).max() > 0.15 * iod
