import numpy as np
import pytest

from facealign.alignment import crop, points, templates, transforms as T


def _rand_similarity(rng):
    a, s = rng.uniform(-np.pi, np.pi), rng.uniform(0.2, 5)
    m = np.zeros((2, 3))
    m[:, :2] = s * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    m[:, 2] = rng.uniform(-100, 100, 2)
    return m


def test_similarity_recovers_known_transform():
    rng = np.random.default_rng(0)
    for _ in range(20):
        m = _rand_similarity(rng)
        src = rng.uniform(0, 200, (7, 2))
        est = T.estimate_similarity(src, T.apply(m, src))
        assert np.allclose(est, m, atol=1e-8)


def test_similarity_is_least_squares_under_noise_and_never_reflects():
    rng = np.random.default_rng(1)
    src = rng.uniform(0, 100, (30, 2))
    flipped = src * [-1, 1]
    est = T.estimate_similarity(src, flipped)
    assert np.linalg.det(est[:, :2]) > 0  # a reflection is not a similarity


def test_affine_recovers_known_transform():
    rng = np.random.default_rng(2)
    m = rng.normal(size=(2, 3))
    src = rng.uniform(0, 50, (10, 2))
    assert np.allclose(T.estimate_affine(src, T.apply(m, src)), m, atol=1e-8)


def test_invert_and_compose_round_trip():
    rng = np.random.default_rng(3)
    m = _rand_similarity(rng)
    p = rng.uniform(0, 300, (5, 2))
    assert np.allclose(T.apply(T.invert(m), T.apply(m, p)), p)
    assert np.allclose(T.compose(T.invert(m), m), np.eye(3)[:2], atol=1e-12)
    s, a = T.similarity_params(m)
    assert s > 0 and -180 <= a <= 180


@pytest.mark.parametrize("name", ["arcface112", "mean68", "mean68_contour", "mean68_affine"])
def test_template_fit_maps_face_onto_template(name):
    rng = np.random.default_rng(4)
    size = templates.get_template(name).default_size
    dst, _ = templates.template_points(name, size)
    m = _rand_similarity(rng)
    inv = T.invert(m)
    # a face whose points are the template points moved by a similarity: the fit must undo it
    if len(dst) == 68:
        face68 = T.apply(inv, dst)
        est = templates.fit_template(name, size, landmarks68=face68)
        assert np.allclose(T.apply(est, face68), dst, atol=1e-6)
    else:
        face5 = T.apply(inv, dst)
        est = templates.fit_template(name, size, landmarks5=face5)
        assert np.allclose(T.apply(est, face5), dst, atol=1e-6)


def test_arcface_template_values_and_scaling():
    dst, _ = templates.template_points("arcface112", 224)
    assert np.allclose(dst[0], [38.2946 * 2, 51.6963 * 2])


def test_ffhq_rule_is_similarity_and_centres_the_face():
    p5 = np.array([[100, 100], [160, 100], [130, 130], [105, 160], [155, 160]], float)
    m = templates.ffhq_transform(p5, 256)
    q = T.apply(m, p5)
    assert abs(q[0, 1] - q[1, 1]) < 1e-6  # eyes level
    assert 0 < q[:, 0].min() and q[:, 0].max() < 256
    assert abs((q[0, 0] + q[1, 0]) / 2 - 127.5) < 1e-6  # eye midpoint on the vertical centre line


def test_unknown_template_is_clear():
    with pytest.raises(ValueError, match="unknown template"):
        templates.get_template("nope")


def test_flip_permutation_is_an_involution_and_mirrors_the_mean_shape():
    assert np.array_equal(points.FLIP68[points.FLIP68], np.arange(68))
    mean = templates.MEAN68
    mirrored = mean[points.FLIP68] * [-1, 1]
    assert np.abs(mirrored - mean).max() < 0.03  # the mean face is nearly symmetric


def test_flip_points_keeps_five_point_semantics():
    p5 = np.array([[10, 5], [30, 5], [20, 15], [12, 25], [28, 25]], float)
    f = points.flip_points(p5, 41)
    assert f[0, 0] < f[1, 0] and f[3, 0] < f[4, 0]  # left stays image-left after the flip


def test_crop_transform_centres_the_box_and_scales_it():
    m = crop.crop_transform([10, 20, 110, 120], 112)
    c = T.apply(m, np.array([60.0, 70.0]))
    assert np.allclose(c, [55.5, 55.5])
    corners = T.apply(m, np.array([[10.0, 70], [110, 70]]))
    assert np.isclose(corners[1, 0] - corners[0, 0], 112 / crop.CROP_SCALE)


def test_crop_transform_rotation_makes_a_rolled_face_upright():
    lm = templates.MEAN68 * 100 + 200
    centre = np.array([200.0, 200])
    a = np.radians(30)
    r = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    rolled = (lm - centre) @ r.T + centre
    roll = crop.roll_from_five(points.five_from_68(rolled))
    assert np.isclose(roll, 30 + crop.roll_from_five(points.five_from_68(lm)), atol=1e-6)
    box, angle = crop.upright_box(rolled)
    m = crop.crop_transform(box, 112, angle)
    up = T.apply(m, rolled)
    five = points.five_from_68(up)
    assert abs(five[0, 1] - five[1, 1]) < 1e-6


def test_box_from_five_matches_tight_box_on_the_mean_shape():
    lm = templates.MEAN68 * 80 + [50, 60]
    assert np.allclose(crop.box_from_five(points.five_from_68(lm)), points.tight_box(lm), atol=1e-6)


def _umeyama_svd(src, dst, w):
    """Reference: Umeyama's SVD solution (weighted), to check the closed form against."""
    w = w / w.sum()
    ms, md = w @ src, w @ dst
    s, d = src - ms, dst - md
    u, sig, vt = np.linalg.svd((d * w[:, None]).T @ s)
    sign = np.array([1.0, -1.0 if np.linalg.det(u) * np.linalg.det(vt) < 0 else 1.0])
    r = u @ np.diag(sign) @ vt
    k = (sig * sign).sum() / (w @ (s**2).sum(1))
    return np.hstack([k * r, (md - k * r @ ms)[:, None]])


@pytest.mark.parametrize("seed", range(5))
def test_similarity_closed_form_equals_umeyama_svd(seed):
    rng = np.random.default_rng(seed)
    src = rng.normal(size=(7, 2)) * 40
    dst = src @ rng.normal(size=(2, 2)) + rng.normal(size=(7, 2)) * 5  # not a similarity: a least-squares fit
    w = rng.uniform(0.1, 1.0, 7)
    assert np.allclose(T.estimate_similarity(src, dst, w), _umeyama_svd(src, dst, w), atol=1e-9)
    assert np.allclose(T.estimate_similarity(src, dst), _umeyama_svd(src, dst, np.ones(7)), atol=1e-9)


def test_invert_general_affine_and_singular():
    rng = np.random.default_rng(4)
    m = rng.normal(size=(2, 3))
    full = np.vstack([m, [0, 0, 1]])
    assert np.allclose(T.invert(m), np.linalg.inv(full)[:2], atol=1e-10)
    with pytest.raises(np.linalg.LinAlgError):
        T.invert(np.array([[1.0, 2.0, 0.0], [2.0, 4.0, 1.0]]))


def test_roll_from_five_on_many_faces_equals_one_at_a_time():
    rng = np.random.default_rng(6)
    p5 = rng.uniform(0, 200, (4, 5, 2))
    many = crop.roll_from_five(p5)
    assert many.shape == (4,)
    assert np.allclose(many, [crop.roll_from_five(p) for p in p5])
    assert isinstance(crop.roll_from_five(p5[0]), float)


def test_similarity_fit_of_a_batch_equals_one_fit_per_face():
    """One similarity fit serves single faces and batches (the temporal module's face frames)."""
    rng = np.random.default_rng(3)
    src = rng.normal(size=(4, 5, 20, 2)) * 50 + 100
    dst = rng.normal(size=(20, 2)) * 30
    batch = T.estimate_similarity(src, dst)
    assert batch.shape == (4, 5, 2, 3)
    for i in range(4):
        for j in range(5):
            assert np.allclose(batch[i, j], T.estimate_similarity(src[i, j], dst), atol=1e-12)
