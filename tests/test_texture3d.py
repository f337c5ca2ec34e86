"""3D texture fusion: rasteriser, atlas round trip, textured OBJ, the 3D merge on renders of one textured head."""
import cv2
import numpy as np
import pytest

from facealign.face3d.pose import rotation_from_angles
from facealign.face3d.texture import (bake, fill_texture, load_atlas, project, push_pull, render, surface_vertices,
                                      weak_fit)
from facealign.face3d.texture_io import write_textured_obj
from facealign.face3d.texture_raster import rasterize
from facealign.merge.texture3d import Texture3DOptions, render_fit, texture_merge
from facealign.types import Face


def _noise_texture(size: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = cv2.resize(rng.uniform(0, 255, (40, 40, 3)).astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
    return np.clip(t, 0, 255)


def test_rasterizer_keeps_the_nearest_surface():
    xy = np.array([[2, 2], [28, 2], [2, 28], [28, 28.0]])
    tris = np.array([[0, 1, 2], [0, 1, 3]])  # overlapping triangles
    r = rasterize(xy, np.array([5.0, 5.0, 5.0, 1.0]), tris, (32, 32))
    # where both cover, the second (nearer towards its corner at depth 1) wins only where it is nearer
    assert r.mask.sum() > 300 and set(np.unique(r.tri)) == {-1, 0, 1}
    assert np.allclose(r.bary.sum(-1)[r.mask], 1.0, atol=1e-5)
    first = rasterize(xy, None, tris, (32, 32))  # no depth: the first triangle wins
    assert (first.tri[10, 10]) == 0


def test_atlas_round_trip_rerenders_the_same_image():
    atlas = load_atlas(256)
    tex = _noise_texture(256)
    verts = surface_vertices()
    for yaw in (0.0, 35.0):
        fit = weak_fit(rotation_from_angles(yaw, 5, 0), 9.0, (100, 100), (200, 200))
        p = project(fit, verts)
        img, mask = render(tex, atlas, p[:, :2], p[:, 2], (200, 200))
        b = bake(img, fit, verts, atlas)
        assert b.weight.max() > 0.9 and b.weight.min() == 0.0  # the back of the ears is not seen
        img2, mask2 = render(atlas.to_image(b.colour), atlas, p[:, :2], p[:, 2], (200, 200))
        both = mask & mask2
        err = np.abs(img2.astype(float) - img)[both].mean()
        assert err < 4.0, err


def test_fill_uses_the_mirror_then_a_smooth_fill():
    atlas = load_atlas(128)
    col = np.zeros((128, 128, 3), np.float32)
    col[:, :64] = 200.0  # only the left half seen
    w = np.zeros((128, 128), np.float32)
    w[:, :64] = 1.0
    tex, total = fill_texture(col, w, atlas)
    on = atlas.mask
    assert np.abs(tex[on][:, 0] - 200).max() < 1e-3  # the right half is the left half mirrored
    img = np.zeros((16, 16, 3), np.float32)
    known = np.zeros((16, 16), bool)
    known[0, 0], img[0, 0] = True, 90.0
    assert np.allclose(push_pull(img, known), 90.0, atol=1e-3)


def test_textured_obj_is_written(tmp_path):
    atlas = load_atlas(64)
    paths = write_textured_obj(tmp_path / "face.obj", surface_vertices(), atlas.uv, atlas.triangles,
                               np.zeros((64, 64, 3), np.uint8))
    text = paths["obj"].read_text().splitlines()
    assert text[1] == "mtllib face.mtl"
    assert sum(line.startswith("v ") for line in text) == len(atlas.uv)
    assert sum(line.startswith("vt ") for line in text) == len(atlas.uv)
    assert sum(line.startswith("f ") for line in text) == len(atlas.triangles)
    assert "map_Kd face.png" in paths["mtl"].read_text()
    assert cv2.imread(str(paths["texture"])).shape == (64, 64, 3)
    with pytest.raises(ValueError):
        write_textured_obj(tmp_path / "face.ply", surface_vertices(), atlas.uv, atlas.triangles, np.zeros((4, 4, 3)))


def _views(yaws, tex, atlas, size=220):
    """Renders of one textured head at several yaws, as photos with their (exact) fits and landmarks."""
    verts = surface_vertices()
    images, faces = [], []
    for yaw in yaws:
        fit = weak_fit(rotation_from_angles(yaw, 0, 0), 9.0, (size / 2, size / 2), (size, size))
        p = project(fit, verts)
        img, _ = render(tex, atlas, p[:, :2], p[:, 2], (size, size))
        lm = p[-68:, :2]
        fit.landmarks3d = p[-68:]
        images.append(img)
        faces.append(Face(box=np.r_[lm.min(0), lm.max(0)], score=1.0, landmarks=lm, landmark_scores=np.ones(68),
                          fit=fit))
    return images, faces


def test_left_and_right_views_fuse_and_render_the_held_out_view():
    atlas = load_atlas(256)
    tex = _noise_texture(256, seed=1)
    images, faces = _views([-40, -25, 25, 40, 0], tex, atlas)
    opt = Texture3DOptions(size=128, texture_size=256)
    r = texture_merge(images[:4], faces[:4], opt)  # the frontal view held out
    assert r.count == 4 and r.image.shape == (128, 128, 3) and r.mask.mean() > 0.3
    render_img, mask = render_fit(r.texture.astype(np.float32), atlas, faces[4].fit, (220, 220))
    err = np.abs(render_img.astype(float) - images[4])[mask & (images[4].sum(-1) > 0)].mean()
    assert err < 12.0, err
    # another head (a different texture) among them is left out
    other, _ = _views([10], _noise_texture(256, seed=7), atlas)
    r2 = texture_merge(images[:4] + other, faces[:4] + [faces[4]], opt)
    assert r2.used == [True] * 4 + [False] and "disagrees" in r2.reasons[-1]


def test_failed_fit_is_left_out():
    atlas = load_atlas(128)
    images, faces = _views([0, 10, -10], _noise_texture(128), atlas, size=160)
    faces[1].fit.error = 0.5 * (faces[1].box[2] - faces[1].box[0])
    r = texture_merge(images, faces, Texture3DOptions(size=96, texture_size=128))
    assert r.used == [True, False, True] and "fit failed" in r.reasons[1]
    with pytest.raises(ValueError):
        Texture3DOptions(pose=(0, 120, 0))
