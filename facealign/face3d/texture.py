"""Texture atlas of the face mesh: photo colours sampled onto the model surface, filled, and rendered back.

    atlas = load_atlas(512)                                  # UVs of facealign/models/face3d_ict_uv.npz
    verts = surface_vertices(fit.identity, fit.expression)   # the mesh + its eye and mouth caps (model frame, cm)
    baked = bake(image, fit, verts, atlas)                   # colour + visibility weight per texel
    texture, weight = fill_texture(colour, weight, atlas)    # symmetry, then a smooth fill
    image, mask = render(texture, atlas, xy, depth, (w, h))  # z-buffered, barycentric UVs, one remap

The UVs are made once by scripts/build_texture_atlas.py (a cylindrical unwrap, mirror-symmetric: u -> 1 - u is
the other side of the face). The surface is the decimated mesh plus caps over the eye and mouth openings (fans
over the 68 landmark vertices, which follow the fitted shape like the mesh does). A texel's weight in a photo says how well that photo saw it: 0 when it is hidden
(behind nearer surface, by a z-buffer), outside the photo, or turned away or at a grazing angle; rising with the
cosine between the surface normal and the view direction.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from facealign.alignment.piecewise import PiecewiseWarp, remap_antialiased
from facealign.face3d import camera as cam
from facealign.face3d.model import MODEL_PATH, load_model
from facealign.face3d.texture_raster import Raster, interpolate, interpolate_at, rasterize
from facealign.types import Fit3D

UV_PATH = MODEL_PATH.with_name("face3d_ict_uv.npz")
ZBUF_SIDE = 256  # the visibility z-buffer is drawn with the face at most this many pixels across


@dataclass(frozen=True)
class TextureAtlas:
    """UVs of the mesh vertices and, per texel of a ``size`` x ``size`` texture, its triangle and barycentrics."""

    uv: np.ndarray  # (V, 2) in [0, 1], x right (the subject's right in a frontal view), y down
    triangles: np.ndarray  # (F, 3)
    size: int
    raster: Raster  # the mesh drawn in texture space

    @property
    def mask(self) -> np.ndarray:
        """(size, size) bool: texels on the surface."""
        return self.raster.mask

    @property
    def texel_corners(self) -> np.ndarray:
        """(M, 3) the corner vertices of each surface texel's triangle (texels in ``mask`` order)."""
        return self._cache("corners", lambda: self.triangles[self.raster.tri[self.mask]])

    @property
    def texel_bary(self) -> np.ndarray:
        """(M, 3) barycentric coordinates of each surface texel."""
        return self._cache("bary", lambda: self.raster.bary[self.mask])

    def _cache(self, key: str, make):
        store = self.__dict__.setdefault("_store", {})
        if key not in store:
            store[key] = make()
        return store[key]

    def texel_values(self, vertex_values: np.ndarray) -> np.ndarray:
        """Per-vertex values (V, C) at every surface texel: (M, C) in ``mask`` order."""
        return interpolate_at(self.texel_corners, self.texel_bary, vertex_values)

    def to_image(self, texel_values: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """(M, C) surface texel values -> (size, size, C) image (``fill`` off the surface)."""
        out = np.full((self.size, self.size, texel_values.shape[1]), fill, np.float32)
        out[self.mask] = texel_values
        return out

    def pixel_uv(self, xy_raster: Raster) -> np.ndarray:
        """Texture coordinates (h, w, 2) in texels of each pixel of a raster of this mesh."""
        return interpolate(xy_raster, self.uv * self.size - 0.5, self.triangles)


@lru_cache(maxsize=4)
def load_atlas(size: int = 512) -> TextureAtlas:
    """The shipped atlas at a texture side of ``size`` texels (the texel map is drawn once per process)."""
    with np.load(UV_PATH) as d:
        uv = d["uv"].astype(np.float64)
        caps = d["cap_triangles"].astype(np.int64)
    tris = np.concatenate([load_model().triangles, caps])
    raster = rasterize(uv * size - 0.5, None, tris, (size, size))
    return TextureAtlas(uv=uv, triangles=tris, size=int(size), raster=raster)


def surface_vertices(identity: np.ndarray | None = None, expression: np.ndarray | None = None) -> np.ndarray:
    """(V + 68, 3) model-frame vertices (cm) of the textured surface: the mesh, then the 68 landmark vertices."""
    m = load_model()
    c = m.coeffs(identity, expression)
    return np.concatenate([m.mesh.shape(c).T, m.landmarks.shape(c).T])


def vertex_normals(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Unit normals (V, 3): area-weighted sums of the triangle normals, oriented outwards (+z for the face's front
    in the model frame)."""
    v = np.asarray(vertices, dtype=np.float64)
    p = v[triangles]
    fn = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    n = np.zeros_like(v)
    for k in range(3):
        np.add.at(n, triangles[:, k], fn)
    # the winding is not known here: orient by the front of the face (the nose tip region looks along +z)
    if n[:, 2].sum() < 0:
        n = -n
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


@dataclass
class Baked:
    """One photo's colours on the surface texels (``atlas.mask`` order) and how well it saw each of them."""

    colour: np.ndarray  # (M, 3) float32 BGR
    weight: np.ndarray  # (M,) float32 in [0, 1]


def project(fit: Fit3D, model_vertices: np.ndarray) -> np.ndarray:
    """(V, 3): image x, y and depth (pixels, larger is farther) of model-frame vertices under a fit."""
    return cam.project_model_points(fit, model_vertices)


def weak_fit(rotation: np.ndarray, scale: float, origin: tuple[float, float], image_size: tuple[int, int],
             identity: np.ndarray | None = None, expression: np.ndarray | None = None) -> Fit3D:
    """A weak-perspective Fit3D for rendering: ``rotation`` (model -> camera), ``scale`` pixels per cm, the head
    origin at image point ``origin``; landmarks3d and error are left empty."""
    m = load_model()
    c = cam.principal_point(image_size)
    return Fit3D(rotation=np.asarray(rotation, dtype=np.float64),
                 translation=np.array([origin[0], origin[1], 0.0]),
                 camera=cam.camera_of(cam.WEAK, 0.0, np.array(c)), scale=float(scale),
                 identity=np.zeros(m.n_identity) if identity is None else np.asarray(identity, dtype=np.float64),
                 expression=np.zeros(m.n_expression) if expression is None else np.asarray(expression, np.float64),
                 landmarks3d=np.zeros((68, 3)), error=0.0)


def landmark_correction(fit: Fit3D, model_vertices: np.ndarray, landmarks68: np.ndarray,
                        image_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """remap maps (h, w) taking the fit's projection to the photo: the piecewise-affine field that moves the fit's
    projected inner landmarks (17-67) onto the photo's points (and leaves the image border in place). The fit
    leaves a residual of a few percent of the face; this puts the eyes and mouth where the photo has them."""
    proj = project(fit, model_vertices[-68:])[:, :2]
    pw = PiecewiseWarp.build(proj[17:], image_size)
    return pw.maps(np.asarray(landmarks68, dtype=np.float64)[17:])


def bake(image: np.ndarray, fit: Fit3D, model_vertices: np.ndarray, atlas: TextureAtlas,
         min_cos: float = 0.25, depth_tolerance: float = 0.03, landmarks68: np.ndarray | None = None) -> Baked:
    """Sample ``image`` onto the atlas under ``fit`` (the mesh ``model_vertices`` (V, 3), model frame, cm).

    Weight: ``(cos - min_cos) / (1 - min_cos)`` clipped to [0, 1], ``cos`` the cosine between the surface normal and
    the direction to the camera; 0 where hidden (deeper than the z-buffer by more than ``depth_tolerance`` of the
    face's width) or outside the photo. With the photo's ``landmarks68`` the samples follow the landmark
    correction (landmark_correction), so every photo's eyes and mouth land on the same texels.
    """
    h, w = image.shape[:2]
    tris = atlas.triangles
    proj = project(fit, model_vertices)
    normals = vertex_normals(model_vertices, tris) @ np.asarray(fit.rotation).T  # camera frame
    facing = -normals[:, 2]  # the camera looks along +z: a surface facing it has a normal with negative z
    tx, ty, tz, tcos = atlas.texel_values(np.column_stack([proj, facing])).T  # surface texels only

    # visibility: a z-buffer of the mesh in the photo, drawn small when the face is large
    width = float(np.ptp(proj[:, 0])) or 1.0
    k = min(1.0, ZBUF_SIDE / width)
    zw, zh = max(1, int(np.ceil(w * k))), max(1, int(np.ceil(h * k)))
    zr = rasterize(proj[:, :2] * k, proj[:, 2], tris, (zw, zh))
    zx = np.clip(np.rint(tx * k).astype(np.int64), 0, zw - 1)
    zy = np.clip(np.rint(ty * k).astype(np.int64), 0, zh - 1)
    visible = tz <= zr.depth[zy, zx] + depth_tolerance * width
    inside = (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1)
    wt = np.clip((tcos - min_cos) / (1.0 - min_cos), 0.0, 1.0) * visible * inside
    # photo pixels per texel: the face's width in pixels over its width in texels
    uv_width = float(np.ptp(atlas.uv[:, 0])) * atlas.size
    if landmarks68 is not None:
        mx, my = landmark_correction(fit, model_vertices, landmarks68, (w, h))
        both = cv2.merge([mx, my])
        corrected = sample_points(both, tx, ty, scale=1.0)
        inner = (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1)
        tx = np.where(inner, corrected[:, 0], tx)
        ty = np.where(inner, corrected[:, 1], ty)
    colour = sample_points(image, tx, ty, scale=width / max(uv_width, 1.0))
    return Baked(colour=colour, weight=wt.astype(np.float32))


def sample_points(image: np.ndarray, x: np.ndarray, y: np.ndarray, scale: float) -> np.ndarray:
    """Bilinear colours (M, C) float32 of ``image`` at points (x, y) (``scale``: image pixels per sample spacing,
    for the anti-aliasing); remap's maps are kept under its 32k side limit by folding them into rows."""
    m = len(x)
    cols = 1024
    rows = max(1, -(-m // cols))
    mx = np.full(rows * cols, -10, np.float32)
    my = np.full(rows * cols, -10, np.float32)
    mx[:m], my[:m] = x, y
    out = remap_antialiased(image, mx.reshape(rows, cols), my.reshape(rows, cols), scale=scale)
    return out.reshape(rows * cols, -1)[:m].astype(np.float32)


def fill_texture(colour: np.ndarray, weight: np.ndarray, atlas: TextureAtlas, mirror: float = 1.0,
                 seen: float = 0.05, full: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Fill what no photo saw: first from the mirrored side (the atlas is symmetric), then the rest by a smooth
    push-pull fill from the surrounding texels. The mirror only fills in: its weight (``mirror`` x the mirrored
    texel's) fades out as the texel's own summed visibility ``weight`` reaches ``full``, so a face's asymmetries
    stay where the photos saw them. Returns (texture (T, T, 3) float32, final weight (T, T))."""
    c = np.asarray(colour, dtype=np.float32)
    wgt = np.asarray(weight, dtype=np.float32)
    cm = c[:, ::-1]
    wm = wgt[:, ::-1] * mirror * np.clip(1.0 - wgt / full, 0.0, 1.0)
    total = wgt + wm
    mixed = (c * wgt[..., None] + cm * wm[..., None]) / np.maximum(total, 1e-6)[..., None]
    known = total >= seen
    out = push_pull(mixed, known)
    on = atlas.mask
    out = np.where(on[..., None], out, 0.0)
    return out.astype(np.float32), total


def push_pull(image: np.ndarray, known: np.ndarray, levels: int = 8) -> np.ndarray:
    """Fill unknown pixels smoothly from known ones: averages of the known pixels are pushed down an image
    pyramid and pulled back up where a level has no data (Gortler et al.'s push-pull)."""
    img = image.astype(np.float32) * known[..., None]
    wt = known.astype(np.float32)
    pyr = [(img, wt)]
    for _ in range(levels):
        img, wt = pyr[-1]
        if min(img.shape[:2]) < 4:
            break
        pyr.append((cv2.pyrDown(img), cv2.pyrDown(wt)))
    filled = None
    for img, wt in reversed(pyr):
        ratio = img / np.maximum(wt, 1e-6)[..., None]
        if filled is None:
            filled = ratio
            continue
        up = cv2.resize(filled, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_LINEAR)
        a = np.clip(wt, 0.0, 1.0)[..., None]
        filled = a * ratio + (1.0 - a) * up
    out = np.where(known[..., None], image, filled)
    return out.astype(np.float32)


def render(texture: np.ndarray, atlas: TextureAtlas, xy: np.ndarray, depth: np.ndarray,
           size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Draw the textured mesh: vertices at image ``xy`` (V, 2) with ``depth`` (V,) (smaller is nearer) into a
    ``size`` = (w, h) image. Returns (uint8 BGR image, black off the face; bool mask of the face)."""
    r = rasterize(xy, depth, atlas.triangles, size)
    uv = atlas.pixel_uv(r)
    m = r.mask
    mx = np.where(m, uv[..., 0], -10).astype(np.float32)
    my = np.where(m, uv[..., 1], -10).astype(np.float32)
    tex = np.clip(np.rint(texture), 0, 255).astype(np.uint8)
    # plain bilinear: halving the texture first where it is minified blurred renders more than aliasing hurt
    # them (leave-one-out photometric error on real photos)
    img = cv2.remap(tex, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    img[~m] = 0
    # small gaps (between a cap and the mesh, folds of the decimated mesh) are inpainted from their surroundings
    holes = cv2.morphologyEx(m.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8)).astype(bool) & ~m
    if holes.any():
        img = cv2.inpaint(img, holes.astype(np.uint8), 3, cv2.INPAINT_TELEA)
        m = m | holes
    return img, m
