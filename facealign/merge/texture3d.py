"""3D fusion: each photo's colours sampled onto the morphable model's surface, fused in texture space, rendered.

    from facealign.merge.texture3d import Texture3DOptions, texture_merge
    result = texture_merge(images, faces, Texture3DOptions(size=256, pose=(0, 0, 0)))
    result.image                      # the unified face rendered at ``pose`` (frontal by default)
    result.texture, result.vertices   # the textured mesh (facealign.face3d.texture_io.write_textured_obj)

Steps: (1) the 3D fit of each face (its ``Face.fit``, else fitted here); a fit whose landmark residual is too large
has failed and is left out; (2) each photo baked onto the atlas with per-texel visibility weights (facing the
camera, not hidden, not at a grazing angle: facealign.face3d.texture.bake); (3) photos that disagree with the
set's consensus left out (facealign.merge.outliers: another person); (4) colours matched and fused per texel
(robust weighted mean, weights = visibility x photo quality); (5) what no photo saw filled from the mirrored side,
then smoothly; (6) the mean identity's neutral shape rendered at the asked pose, framed like the template's crop.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from facealign.alignment.templates import template_points
from facealign.alignment.transforms import estimate_similarity
from facealign.face3d import texture as tx
from facealign.face3d.fit import default_fitter
from facealign.face3d.pose import pose_from_rotation, rotation_from_angles
from facealign.merge import outliers as ol
from facealign.merge.fusion import match_to_reference, robust_fuse, to_uint8
from facealign.merge.quality import INNER, PhotoQuality, inter_ocular, photo_qualities
from facealign.types import Face, Fit3D

SEEN = 0.3  # a texel counts as seen by a photo from this visibility weight (consensus, colour matching)
FACE_WIDTH_CM = 14.0  # about the width of the 68 points' box on the mean shape, for the resolution factor


@dataclass
class Texture3DOptions:
    """Options of the 3D fusion (checked on construction)."""

    size: int = 256  # output picture side (pixels)
    texture_size: int = 512  # atlas side (texels)
    pose: tuple[float, float, float] = (0.0, 0.0, 0.0)  # yaw, pitch, roll (degrees) of the rendered face
    template: str = "mean68"  # the frontal face is framed like this template's crop
    reject: float = 2.5  # per-texel rejection, robust standard deviations from the median
    outlier_threshold: float = ol.THRESHOLD  # consensus score (logit) above which a photo is left out
    max_fit_error: float = 0.08  # RMS landmark residual / face size above which a fit has failed
    min_confidence: float = 0.3
    sharpen: float = 1.0  # photo weights are quality ** sharpen (higher: the best photos dominate, less blur)
    view_tau: float = 0.1  # view-dependent weights: a photo counts exp((cos(angle to the rendered view) - 1) / tau)
    mirror: float = 1.0  # weight of the mirrored side where a texel was seen too little (0: no symmetry fill)

    def __post_init__(self) -> None:
        if not 32 <= int(self.size) <= 4096:
            raise ValueError(f"size must be in [32, 4096], not {self.size}")
        if not 64 <= int(self.texture_size) <= 4096:
            raise ValueError(f"texture_size must be in [64, 4096], not {self.texture_size}")
        pose = tuple(float(a) for a in self.pose)
        if len(pose) != 3 or not all(np.isfinite(pose)) or abs(pose[1]) > 90:
            raise ValueError(f"pose must be yaw, pitch, roll in degrees (|pitch| <= 90), not {self.pose}")
        if not self.template.startswith("mean68"):
            raise ValueError(f"the frontal framing needs a 68-point template (mean68...), not {self.template!r}")
        self.pose = pose
        self.size, self.texture_size = int(self.size), int(self.texture_size)


@dataclass
class Merge3D:
    """The unified face: a rendering, the texture and the mesh, and what each photo contributed."""

    image: np.ndarray  # (size, size, 3) uint8 BGR, black off the face
    mask: np.ndarray  # (size, size) bool: the face
    texture: np.ndarray  # (T, T, 3) uint8 BGR
    coverage: np.ndarray  # (T, T) float32: summed visibility weight of the used photos (0: filled)
    vertices: np.ndarray  # (V, 3) the unified neutral shape, model frame (cm)
    identity: np.ndarray
    used: list[bool]
    reasons: list[str | None]
    quality: list[PhotoQuality]
    distance: np.ndarray
    fit_error: list[float | None]
    poses: list[tuple[float, float, float]] = field(default_factory=list)  # each photo's fitted yaw, pitch, roll
    consensus: ol.Consensus | None = field(repr=False, default=None)  # the evidence behind ``distance``

    @property
    def count(self) -> int:
        return int(sum(self.used))


@dataclass
class BakedSet:
    """Every photo baked onto the atlas, with its fit and quality: fused once, or again without one photo."""

    atlas: tx.TextureAtlas
    fits: list[Fit3D]
    colour: np.ndarray  # (n, M, 3) float32, the surface texels (atlas.mask order)
    weight: np.ndarray  # (n, M) float32 visibility
    quality: list[PhotoQuality]
    reasons: list[str | None]
    fit_error: list[float | None]
    distance: np.ndarray = field(default_factory=lambda: np.zeros(0))
    consensus: ol.Consensus | None = None


def fit_of(image: np.ndarray, face: Face) -> Fit3D:
    """The face's 3D fit (weak perspective), made here if the face has none."""
    if face.fit is not None:
        return face.fit
    return default_fitter().fit(face.landmarks, (image.shape[1], image.shape[0]))


def inner_texels(atlas: tx.TextureAtlas) -> np.ndarray:
    """(T, T) bool: the inner face (hull of the landmark vertices 17-67) in texture space."""
    n_mesh = len(atlas.uv) - 68
    pts = atlas.uv[n_mesh + INNER] * atlas.size - 0.5
    m = np.zeros((atlas.size, atlas.size), np.uint8)
    cv2.fillConvexPoly(m, cv2.convexHull(np.round(pts * 16).astype(np.int32)), 1, shift=4)
    return m.astype(bool) & atlas.mask


def bake_set(images: list[np.ndarray], faces: list[Face], opt: Texture3DOptions) -> BakedSet:
    """Fit (when needed), bake and rate every photo; mark failed fits and untrusted landmarks."""
    atlas = tx.load_atlas(opt.texture_size)
    n = len(faces)
    fits = [fit_of(img, f) for img, f in zip(images, faces)]
    reasons: list[str | None] = [None] * n
    fit_err: list[float | None] = [None] * n
    m = int(atlas.mask.sum())
    colour = np.zeros((n, m, 3), np.float32)
    weight = np.zeros((n, m), np.float32)
    inner = inner_texels(atlas)
    sharp, res = np.zeros(n), np.zeros(n)
    texels_per_cm = atlas.size * float(np.ptp(atlas.uv[:, 0])) / max(float(np.ptp(tx.surface_vertices()[:, 0])), 1e-9)
    for i, (img, f, fit) in enumerate(zip(images, faces, fits)):
        fit_err[i] = ol.fit_error_ratio(fit.error, f.landmarks)
        conf = float(np.mean(f.landmark_scores)) if f.landmark_scores is not None else 1.0
        if fit_err[i] > opt.max_fit_error:
            reasons[i] = f"3D fit failed (residual {fit_err[i]:.3f} of the face size > {opt.max_fit_error})"
        elif conf < opt.min_confidence:
            reasons[i] = f"landmarks not trusted (confidence {conf:.2f} < {opt.min_confidence})"
        b = tx.bake(img, fit, tx.surface_vertices(fit.identity, fit.expression), atlas, landmarks68=f.landmarks)
        colour[i], weight[i] = b.colour, b.weight
        seen = inner & (atlas.to_image(b.weight[:, None])[..., 0] > SEEN)
        if seen.any():
            g = cv2.cvtColor(atlas.to_image(b.colour), cv2.COLOR_BGR2GRAY)
            gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3) / 8.0
            gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3) / 8.0
            sharp[i] = float((gx * gx + gy * gy)[seen].mean())
        # photo pixels per cm over texels per cm (an upsampled photo adds blur)
        res[i] = inter_ocular(f.landmarks) / 6.3 / texels_per_cm
    conf = np.array([float(np.mean(f.landmark_scores)) if f.landmark_scores is not None else 1.0 for f in faces])
    # frontalness is per texel here (the visibility weight); the photo factor stays 1
    quality = photo_qualities(sharp, res, np.ones(n), conf)
    return BakedSet(atlas, fits, colour, weight, quality, reasons, fit_err)


def consensus(bs: BakedSet, images: list[np.ndarray], faces: list[Face], opt: Texture3DOptions) -> list[str | None]:
    """Leave out photos that disagree with the set's consensus (facealign.merge.outliers: identity shape, texture,
    luminance and skin colour against the other photos); the same check as the warp's."""
    reasons = list(bs.reasons)
    cand = np.array([r is None for r in reasons])
    fitted = [f if f.fit is not None else replace(f, fit=fit) for f, fit in zip(faces, bs.fits)]
    check = ol.check_photos(images, fitted, cand, opt.outlier_threshold)
    for i in np.flatnonzero(check.flags):
        reasons[i] = check.reason(i)
    bs.distance = check.score
    bs.consensus = check
    return reasons


def view_weights(fits: list[Fit3D], view: np.ndarray | None, tau: float) -> np.ndarray:
    """Per photo ``exp((cos a - 1) / tau)``, ``a`` the angle between its viewing direction and the one the face
    will be rendered from (model frame): photos taken from near the rendered view count most, so what a turned
    head shows comes from photos of it turned that way (view-dependent texturing). 1 without a view."""
    if view is None or tau <= 0:
        return np.ones(len(fits))
    to_camera = np.array([0.0, 0.0, -1.0])
    d_view = np.asarray(view).T @ to_camera
    cos = np.array([float((np.asarray(f.rotation).T @ to_camera) @ d_view) for f in fits])
    return np.exp((np.clip(cos, -1.0, 1.0) - 1.0) / tau)


def fuse_texture(bs: BakedSet, use: np.ndarray, opt: Texture3DOptions, view: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The fused, filled texture (T, T, 3) float32 and its coverage (T, T) from the photos ``use`` (indices),
    for a rendering from rotation ``view`` (model -> camera; None: no view preference)."""
    atlas = bs.atlas
    use = np.asarray(use, dtype=np.int64)
    # the surface texels as 1 x M images: the fusion is per texel, nothing is spatial
    wt = bs.weight[use][:, None]
    vw = view_weights([bs.fits[i] for i in use], view, opt.view_tau)
    pw = np.array([max(bs.quality[i].weight, 1e-3) ** opt.sharpen for i in use]) * np.maximum(vw, 1e-4)
    w = wt * pw[:, None, None]
    # colours matched to a first fusion on the texels each photo saw well, then fused again
    first, _ = robust_fuse(bs.colour[use][:, None], wt > 0, w, reject=opt.reject, smooth=0.0)
    normed = match_to_reference(bs.colour[use][:, None], wt > SEEN, first)
    fused, _ = robust_fuse(normed, wt > 0, w, reject=opt.reject, smooth=0.0)
    coverage = atlas.to_image(wt.sum(0)[0][:, None])[..., 0]
    texture, _ = tx.fill_texture(atlas.to_image(fused[0]), coverage, atlas, mirror=opt.mirror)
    return texture, coverage


def frontal_frame(vertices: np.ndarray, size: int, template: str) -> tuple[float, np.ndarray]:
    """(pixels per cm, image position of the head origin) that put the frontal face's landmarks on the template."""
    tpl, _ = template_points(template, size)
    lm = vertices[-68:]
    xy = (rotation_from_angles(0, 0, 0) @ lm.T).T[:, :2]
    m = estimate_similarity(xy[INNER], tpl[INNER])
    scale = float(np.hypot(m[0, 0], m[1, 0]))
    return scale, m[:, 2]


def render_pose(texture: np.ndarray, atlas: tx.TextureAtlas, vertices: np.ndarray, pose: tuple[float, float, float],
                size: int, template: str) -> tuple[np.ndarray, np.ndarray]:
    """The textured shape ``vertices`` (model frame) rendered at ``pose``, framed like the template's crop."""
    scale, origin = frontal_frame(vertices, size, template)
    fit = tx.weak_fit(rotation_from_angles(*pose), scale, (float(origin[0]), float(origin[1])), (size, size))
    p = tx.project(fit, vertices)
    return tx.render(texture, atlas, p[:, :2], p[:, 2], (size, size))


def render_fit(texture: np.ndarray, atlas: tx.TextureAtlas, fit: Fit3D, image_size: tuple[int, int],
               landmarks68: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The texture on a fit's own shape, pose and camera: how that photo would show the unified face; with the
    photo's ``landmarks68`` the rendering is moved by the inverse landmark correction onto its points."""
    verts = tx.surface_vertices(fit.identity, fit.expression)
    p = tx.project(fit, verts)
    img, mask = tx.render(texture, atlas, p[:, :2], p[:, 2], image_size)
    if landmarks68 is None:
        return img, mask
    from facealign.alignment.piecewise import PiecewiseWarp

    pw = PiecewiseWarp.build(np.asarray(landmarks68, dtype=np.float64)[17:], image_size)
    mx, my = pw.maps(p[-68:, :2][17:])
    img = cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    mask = cv2.remap(mask.astype(np.uint8), mx, my, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT) > 0
    return img, mask


def texture_merge(images: list[np.ndarray], faces: list[Face], options: Texture3DOptions | None = None) -> Merge3D:
    """Fuse the faces (one per photo, 68 landmarks each) on the 3D model's surface and render the unified face.
    Raises ValueError when no photo is left to fuse."""
    opt = options or Texture3DOptions()
    if not faces or len(faces) != len(images):
        raise ValueError("need one face per photo and at least one photo")
    bs = bake_set(images, faces, opt)
    reasons = consensus(bs, images, faces, opt)
    used = [r is None for r in reasons]
    if not any(used):
        raise ValueError("every photo was left out; nothing to merge")
    sel = np.flatnonzero(used)
    texture, coverage = fuse_texture(bs, sel, opt, view=rotation_from_angles(*opt.pose))
    qw = np.array([max(bs.quality[i].weight, 1e-3) for i in sel])
    identity = (np.stack([bs.fits[i].identity for i in sel]) * qw[:, None]).sum(0) / qw.sum()
    verts = tx.surface_vertices(identity, None)
    image, mask = render_pose(texture, bs.atlas, verts, opt.pose, opt.size, opt.template)
    poses = [tuple(round(float(a), 2) for a in (p.yaw, p.pitch, p.roll))
             for p in (pose_from_rotation(f.rotation) for f in bs.fits)]
    return Merge3D(image=image, mask=mask, texture=to_uint8(texture), coverage=coverage, vertices=verts,
                   identity=identity, used=used, reasons=reasons, quality=bs.quality, distance=bs.distance,
                   fit_error=bs.fit_error, poses=poses, consensus=bs.consensus)
