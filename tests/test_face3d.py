"""3D face model fitting: the shipped model, pose conventions, fits on synthetic faces, cameras, export, overlays."""
from __future__ import annotations

import numpy as np
import pytest

from facealign.face3d import camera as cam
from facealign.face3d.fit import Face3DFitter, fit_face
from facealign.face3d.model import load_model
from facealign.face3d.pose import angles_from_rotation, pose_from_rotation, rotation_from_angles
from facealign.types import Face, Fit3D, Pose

from conftest import need_data

SIZE = (640, 480)


@pytest.fixture(scope="module")
def fitter() -> Face3DFitter:
    return Face3DFitter()


def project_head(yaw: float, pitch: float, roll: float, s: float = 15.0, k: float = 0.0,
                 coeffs: np.ndarray | None = None, semantic_jaw: bool = False) -> np.ndarray:
    """68 image points of the compact model's face (jaw on the silhouette like an annotator's) at a pose."""
    from facealign.face3d import contour

    m = load_model()
    c = np.zeros(m.n_coeffs) if coeffs is None else coeffs
    rot = rotation_from_angles(yaw, pitch, roll)
    ctr = np.array(cam.principal_point(SIZE))
    t = np.array([10.0, -5.0])
    uv, _ = cam.project(rot @ m.landmarks.shape(c), s, k, t, ctr)
    if not semantic_jaw:
        uvc, _ = cam.project(rot @ m.contour.shape(c), s, k, t, ctr)
        sel = contour.select(uvc, m.contour_lines, contour.horizontal_direction(rot[:2, 0]))
        uv[:, :17] = uvc[:, sel]
    return uv.T


def test_model_loads_with_expected_shapes() -> None:
    m = load_model()
    assert m.landmarks.mean.shape == (3, 68)
    assert m.landmarks.basis.shape == (3, 68, m.n_coeffs)
    assert 40 <= m.n_identity <= 60 and m.n_expression == 53 and len(m.expression_names) == 53
    assert m.contour_lines.shape[0] == 17 and m.contour_lines.max() < m.contour.mean.shape[1]
    nv = m.mesh.mean.shape[1]
    assert 1000 <= nv <= 6000 and m.triangles.min() >= 0 and m.triangles.max() < nv
    # the subject's right jaw end (point 0) is at model x < 0, the nose tip in front (z > 0), brows above the chin
    lm = m.landmarks.mean
    assert lm[0, 0] < 0 < lm[0, 16] and lm[2, 30] > lm[2, 0] and lm[1, 19] > lm[1, 8]


def test_angles_round_trip() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        a = rng.uniform([-170, -89, -170], [170, 89, 170])
        r = rotation_from_angles(*a)
        assert np.allclose(r @ r.T, np.eye(3)) and np.isclose(np.linalg.det(r), 1)
        assert np.allclose(angles_from_rotation(r), a, atol=1e-6)
    # full profile is not singular: yaw 90 with pitch and roll comes back exactly
    assert np.allclose(angles_from_rotation(rotation_from_angles(90, 10, 5)), (90, 10, 5), atol=1e-6)
    # gimbal lock at pitch 90: the angles may change but they give the same rotation
    r = rotation_from_angles(20, 90, 5)
    assert np.allclose(rotation_from_angles(*angles_from_rotation(r)), r, atol=1e-9)
    assert isinstance(pose_from_rotation(r), Pose)


def test_pose_sign_conventions_on_a_rotated_head() -> None:
    front = project_head(0, 0, 0, semantic_jaw=True)
    eyes = lambda p: (p[36:42].mean(0) + p[42:48].mean(0)) / 2  # noqa: E731
    nose = lambda p: p[30] - eyes(p)  # noqa: E731
    # yaw > 0: the subject turns to their left, the nose moves towards image right
    assert nose(project_head(30, 0, 0, semantic_jaw=True))[0] > nose(front)[0] + 1
    # pitch > 0: looking up, the nose tip moves up (smaller y) relative to the eyes
    assert nose(project_head(0, 20, 0, semantic_jaw=True))[1] < nose(front)[1] - 1
    # roll > 0: clockwise in the image, the image-right eye goes down: positive eye-line angle
    p = project_head(0, 0, 20, semantic_jaw=True)
    d = p[42:48].mean(0) - p[36:42].mean(0)
    assert np.degrees(np.arctan2(d[1], d[0])) == pytest.approx(20, abs=0.5)


@pytest.mark.parametrize("camera", ["weak_perspective", "perspective"])
@pytest.mark.parametrize("angles", [(0, 0, 0), (35, -10, 5), (-60, 20, -25), (80, 0, 10), (-20, -35, 40)])
def test_fit_recovers_pose_signs_and_values(fitter: Face3DFitter, camera: str, angles) -> None:
    pts = project_head(*angles, k=1 / 900 if camera == "perspective" else 0.0)
    fit = fitter.fit(pts, SIZE, camera=camera)
    got = angles_from_rotation(fit.rotation)
    assert np.allclose(got, angles, atol=2.0), (got, angles)
    assert fit.error < 1.0  # pixels
    assert fit.landmarks3d.shape == (68, 3) and fit.camera.model == camera


def test_fit_on_random_synthetic_faces_noise_free(fitter: Face3DFitter) -> None:
    """Compact-model faces with random identity/expression/pose: mean angle errors within 2 degrees."""
    from facealign.evaluation.pose_eval import SyntheticFaces, angle_diff

    gen = SyntheticFaces(source=None)
    rng = np.random.default_rng(1)
    errs = []
    while len(errs) < 40:
        smp = gen.sample(rng, "weak_perspective", 0.0)
        if abs(smp.yaw) > 75:  # Euler pitch/roll are ill-conditioned at yaw +-90 (see docs/face3d.md)
            continue
        y, p, r = angles_from_rotation(fitter.fit(smp.points, SIZE).rotation)
        errs.append((angle_diff(y, smp.yaw), angle_diff(p, smp.pitch), angle_diff(r, smp.roll)))
    assert np.all(np.mean(errs, axis=0) < 2.0), np.mean(errs, axis=0)


def test_perspective_focal_recovery(fitter: Face3DFitter) -> None:
    """A close face (strong perspective) with the mean shape: the focal is found; a given focal is kept."""
    rng = np.random.default_rng(2)
    errs = []
    for f_true in (450.0, 700.0, 1000.0):
        s = f_true / 35.0  # head origin 35 cm away
        ang = rng.uniform(-30, 30, 3)
        pts = project_head(*ang, s=s, k=1 / f_true)
        fit = fitter.fit(pts, SIZE, camera="perspective")
        errs.append(abs(fit.camera.focal - f_true) / f_true)
        assert fit.translation[2] == pytest.approx(35.0, rel=0.25)
    assert np.mean(errs) < 0.1, errs
    fit = fitter.fit(pts, SIZE, camera="perspective", focal=1000.0)
    assert fit.camera.focal == pytest.approx(1000.0) and fit.camera.cx == pytest.approx((SIZE[0] - 1) / 2)
    fit = fitter.fit(pts, SIZE, camera="perspective", focal=1000.0, cx=300.0, cy=200.0)
    assert (fit.camera.cx, fit.camera.cy) == (300.0, 200.0)


def test_fit_face_function_and_json(fitter: Face3DFitter) -> None:
    pts = project_head(20, 5, -5)
    fit = fit_face(pts, SIZE)
    assert isinstance(fit, Fit3D) and fit.camera.model == "weak_perspective" and fit.scale > 0
    # landmarks3d x, y are on the points (up to the jaw, which slides on the outline)
    assert np.abs(fit.landmarks3d[17:, :2] - pts[17:]).max() < 1.0
    face = Face(box=np.array([0, 0, 1, 1.0]), score=1.0, landmarks=pts, pose=pose_from_rotation(fit.rotation), fit=fit)
    js = face.to_json()
    assert set(js["pose"]) == {"yaw", "pitch", "roll"} and len(js["landmarks3d"]) == 68
    assert js["camera"]["model"] == "weak_perspective" and len(js["expression"]) == 53
    with pytest.raises(ValueError):
        fitter.fit(pts, SIZE, camera="fisheye")


def test_five_point_pose_only_fit(fitter: Face3DFitter) -> None:
    from facealign.alignment.points import five_from_68

    for yaw in (-40, 0, 40):
        fit = fitter.fit_five(five_from_68(project_head(yaw, 0, 10, semantic_jaw=True)), SIZE)
        y, _, r = angles_from_rotation(fit.rotation)
        assert y == pytest.approx(yaw, abs=6) and r == pytest.approx(10, abs=3)


def test_mesh_export_obj_and_ply(fitter: Face3DFitter, tmp_path) -> None:
    from facealign.face3d.mesh_io import write_mesh

    fit = fitter.fit(project_head(25, 0, 0), SIZE)
    v, f = fitter.mesh(fit)
    assert v.shape[1] == 3 and f.shape[1] == 3
    obj = write_mesh(tmp_path / "face.obj", v, f)
    lines = obj.read_text().splitlines()
    assert sum(ln.startswith("v ") for ln in lines) == len(v)
    faces = [ln.split()[1:] for ln in lines if ln.startswith("f ")]
    assert len(faces) == len(f) and min(int(i) for fc in faces for i in fc) == 1
    assert max(int(i) for fc in faces for i in fc) <= len(v)
    ply = write_mesh(tmp_path / "face.ply", v, f).read_text().splitlines()
    assert ply[0] == "ply" and f"element vertex {len(v)}" in ply and f"element face {len(f)}" in ply
    end = ply.index("end_header")
    assert len(ply) == end + 1 + len(v) + len(f) and ply[-1].startswith("3 ")
    with pytest.raises(ValueError):
        write_mesh(tmp_path / "face.stl", v, f)


def test_overlay_draws_mesh_and_axes(fitter: Face3DFitter) -> None:
    from facealign.face3d.draw import draw_fit

    fit = fitter.fit(project_head(-30, 10, 0), SIZE)
    v, f = fitter.mesh(fit)
    img = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    for mode in ("wireframe", "shaded"):
        out = draw_fit(img, fit, v, f, mode=mode)
        assert out.shape == img.shape and out.dtype == np.uint8 and (out > 0).sum() > 1000
    assert img.max() == 0  # the input is not modified


def test_eval_pose_cli_runs_small(capsys) -> None:
    from facealign.cli.main import main

    assert main(["eval", "pose", "--synthetic", "4", "--mtfl", "none"]) == 0
    out = capsys.readouterr().out
    assert "weak_perspective" in out and "perspective" in out


def test_synthetic_eval_with_the_full_ict_model() -> None:
    from facealign.evaluation.pose_eval import SyntheticFaces, evaluate_synthetic

    need_data("ict-face", "ict_face_area_model.npz")
    gen = SyntheticFaces()
    assert gen.full_model
    rows = evaluate_synthetic(20, (0.0,), ("weak_perspective",), generator=gen)
    assert rows[0]["yaw"] < 3.0 and rows[0]["rotation"] < 3.0


def test_mtfl_reader_and_yaw_classes() -> None:
    from facealign.data.mtfl import read_mtfl
    from facealign.evaluation.pose_eval import confusion, yaw_class

    assert [yaw_class(y) for y in (-60, -30, 0, 30, 60)] == [1, 2, 3, 4, 5]
    assert confusion([1, 3, 5], [1, 3, 4]).tolist()[4][3] == 1
    rows = read_mtfl(need_data("mtfl", "val.txt"))
    assert len(rows) > 1000 and rows[0].points.shape == (5, 2) and rows[0].attributes["pose"] in range(1, 6)


def test_degenerate_landmarks_raise_value_error(fitter: Face3DFitter) -> None:
    for bad in (np.zeros((68, 2)), np.full((68, 2), np.nan), np.c_[np.arange(68.0), np.arange(68.0)]):
        with pytest.raises(ValueError):
            fitter.fit(bad, SIZE)


@pytest.mark.parametrize("camera", ["weak_perspective", "perspective"])
def test_fit_is_exact_when_the_model_can_represent_the_points(fitter: Face3DFitter, camera: str) -> None:
    """Mean shape, jaw points given ~0 weight, focal known: the noise-free pose is recovered to ~0 error.

    The optimiser is not what limits the synthetic benchmark's noise-free error (docs/face3d.md, "What limits the
    noise-free error"): with points the model reproduces exactly the rotation comes back to well under 0.05 degrees.
    """
    from facealign.evaluation.pose_eval import rotation_error

    w = np.r_[np.full(17, 1e-6), np.ones(51)]
    for ang in ((0, 0, 0), (60, -30, 20), (-85, 40, -40), (30, 45, 10)):
        pts = project_head(*ang, k=1 / 900 if camera == "perspective" else 0.0)
        fit = fitter.fit(pts, SIZE, camera=camera, focal=900.0 if camera == "perspective" else None, weights=w)
        assert rotation_error(fit.rotation, rotation_from_angles(*ang)) < 0.05, ang


@pytest.mark.parametrize("angles", [(0, 0, 0), (50, -10, 5), (-75, 15, -10)])
def test_fit_to_3d_convention_points(fitter: Face3DFitter, angles) -> None:
    """Points in the 3D convention (the jaw where it is) are fitted with the model's own jaw vertices: exact pose
    and points; taken as 2D-convention points instead, the turned head's jaw is matched to the wrong vertices."""
    pts = project_head(*angles, semantic_jaw=True)
    fit = fitter.fit(pts, SIZE, convention="3d")
    assert np.allclose(angles_from_rotation(fit.rotation), angles, atol=1.0)
    assert np.abs(fit.landmarks3d[:, :2] - pts).max() < 0.5 and fit.error < 0.5
    if abs(angles[0]) > 30:
        assert fitter.fit(pts, SIZE).error > 2 * fit.error + 0.5
    with pytest.raises(ValueError, match="convention"):
        fitter.fit(pts, SIZE, convention="ibug")


def test_pipeline_fits_and_reports_the_networks_3d_points() -> None:
    """fit3d keeps Face.landmarks3d_xy (when a network gave them) as the x, y of landmarks3d, the pose from the
    2D points; the temporal correction of the 2D points moves them alike."""
    from facealign.pipeline import FaceAligner
    from facealign.temporal.fusion import _set_landmarks

    p2 = project_head(50, 0, 0)
    p3 = project_head(50, 0, 0, semantic_jaw=True)
    f = Face(box=np.r_[p2.min(0), p2.max(0)], score=1.0, landmarks=p2, landmarks3d_xy=p3)
    FaceAligner(shared_pool=False).fit3d(SIZE, [f])
    assert np.allclose(f.landmarks3d[:, :2], p3) and abs(f.pose.yaw - 50) < 1.0
    _set_landmarks(f, p2 + 1.5)
    assert np.allclose(f.landmarks3d_xy, p3 + 1.5)
