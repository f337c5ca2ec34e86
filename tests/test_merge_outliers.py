"""The merge consensus check (facealign.merge.outliers) on generated "people": no data files.

A synthetic person is a face drawn on the template's 68 points (their own shape offsets, skin colour, lip colour,
brow thickness and a fixed pattern of blotches on the skin); a "photo" of them is that face placed by a similarity
(turned, scaled, moved) into a frame with a background, lit brighter or darker, a little blurred and noisy.
"""
import cv2
import numpy as np
import pytest

from facealign.alignment.templates import template_points
from facealign.face3d.fit import default_fitter
from facealign.face3d.pose import pose_from_rotation
from facealign.jobs.merge_methods import _photo_reports
from facealign.merge import outliers as ol
from facealign.merge.evidence import KINDS, describe, distance_matrix
from facealign.merge.texture3d import Texture3DOptions, texture_merge
from facealign.merge.warp import WarpOptions, warp_merge
from facealign.types import Face

CANVAS = 200


def _person(seed: int, skin=(120, 150, 200), lips=(90, 80, 170), jaw=1.0, eyes=1.0, nose=1.0, brow=3):
    """A person: (canonical face image, its 68 points, the face's mask) in a CANVAS x CANVAS frame."""
    rng = np.random.default_rng(seed)
    pts, _ = template_points("mean68", CANVAS)
    pts = pts.copy()
    c = pts[27:36].mean(0)
    pts[0:17, 0] = c[0] + (pts[0:17, 0] - c[0]) * jaw
    for eye in (slice(36, 42), slice(42, 48)):
        pts[eye, 0] += (pts[eye, 0].mean() - c[0]) * (eyes - 1)
    pts[31:36, 1] = pts[27, 1] + (pts[31:36, 1] - pts[27, 1]) * nose
    img = np.zeros((CANVAS, CANVAS, 3), np.uint8)
    outline = np.r_[pts[0:17], pts[26:16:-1] - [0, 18]]
    cv2.fillPoly(img, [np.round(outline).astype(np.int32)], skin)
    blotch = cv2.GaussianBlur(rng.uniform(-1, 1, (CANVAS, CANVAS)).astype(np.float32), (0, 0), 3)
    blotch = (blotch / max(float(np.abs(blotch).max()), 1e-6) * 40)[..., None]
    face = np.zeros((CANVAS, CANVAS), np.uint8)
    cv2.fillPoly(face, [np.round(outline).astype(np.int32)], 1)
    img = np.clip(img + blotch * face[..., None], 0, 255).astype(np.uint8)
    for b in (pts[17:22], pts[22:27]):
        cv2.polylines(img, [np.round(b).astype(np.int32)], False, (40, 40, 60), brow)
    for e in (pts[36:42], pts[42:48]):
        cv2.fillPoly(img, [np.round(e).astype(np.int32)], (250, 250, 250))
        cv2.circle(img, tuple(np.round(e.mean(0)).astype(int)), 3, (30, 30, 30), -1)
    cv2.polylines(img, [np.round(pts[27:31]).astype(np.int32)], False, (80, 100, 150), 2)
    cv2.polylines(img, [np.round(pts[31:36]).astype(np.int32)], False, (60, 80, 130), 2)
    cv2.fillPoly(img, [np.round(pts[48:60]).astype(np.int32)], lips)
    return img, pts, face.astype(np.float32)


def _photos(person, n: int, seed: int):
    """``n`` photos of a person: (images, faces with their points, 3D fit and pose)."""
    face_img, pts, mask = person
    rng = np.random.default_rng(seed)
    fitter = default_fitter()
    images, faces = [], []
    for _ in range(n):
        a = np.radians(rng.uniform(-10, 10))
        s = rng.uniform(1.1, 1.4)
        m = np.array([[s * np.cos(a), -s * np.sin(a), 0.0], [s * np.sin(a), s * np.cos(a), 0.0]])
        m[:, 2] = np.array([160.0, 160.0]) - m[:, :2] @ (CANVAS / 2 * np.ones(2)) + rng.uniform(-15, 15, 2)
        bg = np.full((320, 320, 3), rng.uniform(60, 200, 3), np.float32)
        warped = cv2.warpAffine(face_img, m, (320, 320)).astype(np.float32)
        inside = cv2.warpAffine(mask, m, (320, 320))[..., None]
        img = bg * (1 - inside) + warped * inside
        img = img * rng.uniform(0.75, 1.2) + rng.uniform(-15, 15)
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.2)) + rng.normal(0, 3, img.shape)
        images.append(np.clip(img, 0, 255).astype(np.uint8))
        lm = pts @ m[:, :2].T + m[:, 2] + rng.normal(0, 0.7, pts.shape)
        f = Face(box=np.r_[lm.min(0), lm.max(0)], score=1.0, landmarks=lm, landmark_scores=np.full(68, 0.9))
        f.fit = fitter.fit(lm, (320, 320))
        f.pose = pose_from_rotation(f.fit.rotation)
        faces.append(f)
    return images, faces


ALICE = dict(seed=1)
BOB = dict(seed=2, skin=(70, 100, 150), lips=(120, 110, 160), jaw=1.18, eyes=0.85, nose=1.25, brow=6)


def test_robust_z_and_floor():
    z = ol.robust_z(np.array([1.0, 1.1, 0.9, 1.0, 5.0]))
    assert z[-1] > 10 and np.abs(z[:4]).max() < 2
    near_copies = np.array([1.0, 1.0001, 0.9999, 1.0, 1.0002])
    assert np.abs(ol.robust_z(near_copies, floor=0.1)).max() < 0.01  # no spread: tiny differences stay tiny
    assert np.isnan(ol.robust_z(np.array([1.0, 2.0]))).all()  # too few values


def test_consensus_check_on_vectors():
    rng = np.random.default_rng(0)
    base = {k: rng.normal(0, 1, 20) for k in KINDS}
    own = [{k: v + rng.normal(0, 0.1, 20) for k, v in base.items()} for _ in range(8)]
    other = {k: rng.normal(0, 1, 20) for k in KINDS}
    c = ol.consensus_check(own + [other])
    assert c.flags.tolist() == [False] * 8 + [True]
    assert c.contributions(8)[0][1] > 3 and "another person" in c.reason(8)
    assert not ol.consensus_check(own).flags.any()
    few = ol.consensus_check(own[:2] + [other])  # too few photos for a consensus: nobody is judged
    assert not few.flags.any() and np.isnan(few.score).all()
    some = ol.consensus_check(own + [other], candidates=np.r_[np.ones(8, bool), False])
    assert not some.flags.any() and np.isnan(some.score[-1])


def test_descriptors_of_a_synthetic_person_agree_more_than_two_people():
    a_img, a_faces = _photos(_person(**ALICE), 4, seed=10)
    b_img, b_faces = _photos(_person(**BOB), 1, seed=11)
    d = [describe(i, f).vectors for i, f in zip(a_img + b_img, a_faces + b_faces)]
    for k in ("lbp", "gradient", "luminance", "shape"):  # skin chroma moves with the background (grey world)
        m = distance_matrix([v[k] for v in d])
        own = m[:4, :4][np.triu_indices(4, 1)]
        assert m[4, :4].min() > own.max(), k


@pytest.mark.parametrize("method", ["warp", "3d"])
def test_another_synthetic_person_is_left_out_and_named(method):
    images, faces = _photos(_person(**ALICE), 8, seed=3)
    b_img, b_faces = _photos(_person(**BOB), 1, seed=4)
    images, faces = images + b_img, faces + b_faces
    if method == "warp":
        r = warp_merge(images, faces, WarpOptions(size=128))
    else:
        r = texture_merge(images, faces, Texture3DOptions(size=128, texture_size=128))
    assert r.used == [True] * 8 + [False]
    assert r.reasons[-1].startswith("another person?") and "z " in r.reasons[-1]
    rep = _photo_reports(r, faces)
    assert rep[-1]["used"] is False and rep[-1]["consensus_distance"] > ol.THRESHOLD
    assert set(rep[-1]["outlier_evidence"]) >= {"lbp_nearest", "identity_consensus"}
    assert all(e["consensus_distance"] < ol.THRESHOLD for e in rep[:8])


def test_a_consistent_synthetic_set_keeps_every_photo():
    for seed in (5, 6, 7):
        images, faces = _photos(_person(**ALICE), 10, seed=seed)
        r = warp_merge(images, faces, WarpOptions(size=128))
        assert all(r.used), (seed, r.reasons)


def test_a_failed_fit_is_left_out_and_named_before_the_consensus():
    images, faces = _photos(_person(**ALICE), 7, seed=8)
    bad_img, bad = _photos(_person(**ALICE), 1, seed=9)
    lm = bad[0].landmarks.copy()
    lm[:17] = lm[:17][::-1] + [0.0, 60.0]  # a jaw no head has: the 3D fit cannot explain it
    bad[0].landmarks = lm
    bad[0].fit = default_fitter().fit(lm, (320, 320))
    r = warp_merge(images + bad_img, faces + bad, WarpOptions(size=128))
    assert r.used == [True] * 7 + [False] and r.reasons[-1].startswith("3D fit failed")
    assert r.fit_error[-1] > 0.08 and np.isnan(r.distance[-1])  # not judged by the consensus
