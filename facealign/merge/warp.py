"""Shape-normalised fusion: every face warped piecewise-affinely onto one shape, then fused robustly.

    from facealign.merge.warp import WarpOptions, warp_merge
    result = warp_merge(images, faces, WarpOptions(size=256))   # faces: Face with 68 landmarks (fit optional)
    result.image            # the unified face, (size, size, 3) uint8 BGR
    result.used, result.reasons, result.quality

Steps: (1) a similarity to the template per face (the crop of ``--method mean``); (2) the target shape: the mean of
the aligned shapes (the set's own face shape; or the template); (3) one piecewise-affine remap per face from its
photo onto that shape (facealign.alignment.piecewise); (4) quality weights (facealign.merge.quality); (5) photos
whose fit failed or that disagree with the consensus left out (facealign.merge.outliers); (6) a robust weighted
mean (facealign.merge.fusion).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from facealign.alignment.piecewise import PiecewiseWarp, inside, remap_antialiased
from facealign.alignment.templates import fit_template, template_points
from facealign.alignment.transforms import apply, estimate_similarity, invert
from facealign.merge import outliers as ol
from facealign.merge.fusion import match_colours, robust_fuse, to_uint8
from facealign.merge.quality import (INNER, PhotoQuality, frontalness, gradient_energy, inner_mask, inter_ocular,
                                     photo_qualities)
from facealign.types import Face

SHAPES = ("mean", "template")
FUSIONS = ("mean", "median")


@dataclass
class WarpOptions:
    """Options of the shape-normalised fusion (checked on construction)."""

    size: int = 256  # output side (pixels)
    template: str = "mean68"  # the similarity frame the faces are first put in (a 68-point template)
    shape: str = "mean"  # "mean": the set's mean shape; "template": the template's shape
    fusion: str = "mean"  # "mean": robust weighted mean; "median": per-pixel median
    reject: float = 2.5  # per-pixel rejection, robust standard deviations from the median
    outlier_threshold: float = ol.THRESHOLD  # consensus score (logit) above which a photo is left out
    max_fit_error: float = 0.08  # a 3D fit with an RMS residual above this fraction of the face size failed
    min_confidence: float = 0.3  # landmarks with a lower mean confidence are not trusted
    weights: str = "quality"  # "quality": each photo weighted by its quality; "equal": all alike

    def __post_init__(self) -> None:
        if not 32 <= int(self.size) <= 4096:
            raise ValueError(f"size must be in [32, 4096], not {self.size}")
        if not self.template.startswith("mean68"):
            raise ValueError(f"the warp needs a 68-point template (mean68...), not {self.template!r}")
        if self.shape not in SHAPES:
            raise ValueError(f"shape must be one of {SHAPES}, not {self.shape!r}")
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, not {self.fusion!r}")
        if self.weights not in ("quality", "equal"):
            raise ValueError(f"weights must be 'quality' or 'equal', not {self.weights!r}")
        self.size = int(self.size)


@dataclass
class WarpMerge:
    """The unified face and what each photo contributed."""

    image: np.ndarray  # (size, size, 3) uint8 BGR
    shape: np.ndarray  # (68, 2) the shape every face was warped onto, in the output frame
    used: list[bool]
    reasons: list[str | None]  # why a photo was left out (None when used)
    quality: list[PhotoQuality]
    distance: np.ndarray  # (n,) consensus score (logit that the photo is another person; NaN when not judged)
    fit_error: list[float | None]  # 3D fit residual / face size, when the face had a fit
    warped: list[np.ndarray] = field(repr=False, default_factory=list)  # the shape-normalised faces
    valid: list[np.ndarray] = field(repr=False, default_factory=list)  # their masks (inside the photo)
    consensus: ol.Consensus | None = field(repr=False, default=None)  # the evidence behind ``distance``

    @property
    def count(self) -> int:
        return int(sum(self.used))


def target_shape(aligned: list[np.ndarray], template_pts: np.ndarray, shape: str) -> np.ndarray:
    """The shape to warp onto: the template's, or the mean of the aligned shapes placed on the template by a
    similarity (so the output is framed like the template's crop)."""
    if shape == "template" or not aligned:
        return template_pts.copy()
    mean = np.mean(aligned, axis=0)
    m = estimate_similarity(mean[INNER], template_pts[INNER])
    return apply(m, mean)


def warp_faces(images: list[np.ndarray], points: list[np.ndarray], pw: PiecewiseWarp,
               crops: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Each photo warped onto ``pw``'s shape: ``points`` are its 68 points in the similarity crop frame,
    ``crops`` its crop transform (photo -> crop). Returns the stack (n, h, w, 3) and the masks (n, h, w)."""
    out, masks = [], []
    for img, pts, m in zip(images, points, crops):
        mx, my = pw.maps(pts, pre=invert(m))
        out.append(remap_antialiased(img, mx, my))
        masks.append(inside(mx, my, (img.shape[1], img.shape[0])))
    return np.stack(out), np.stack(masks)


def warp_merge(images: list[np.ndarray], faces: list[Face], options: WarpOptions | None = None,
               photo_weights: np.ndarray | None = None) -> WarpMerge:
    """Fuse the faces (one per photo, each with 68 landmarks; ``Face.fit``/``pose``/``landmark_scores`` used
    when present) into one shape-normalised face; ``photo_weights`` (n,) multiply the quality weights.
    Raises ValueError when no face is left to fuse."""
    opt = options or WarpOptions()
    n = len(faces)
    if n == 0 or n != len(images):
        raise ValueError("need one face per photo and at least one photo")
    size = opt.size
    tpl, _ = template_points(opt.template, size)
    crops = [fit_template(opt.template, size, landmarks68=f.landmarks) for f in faces]
    aligned = [apply(m, f.landmarks) for m, f in zip(crops, faces)]

    reasons: list[str | None] = [None] * n
    fit_err: list[float | None] = [None] * n
    for i, f in enumerate(faces):
        conf = float(np.mean(f.landmark_scores)) if f.landmark_scores is not None else 1.0
        if f.fit is not None:
            fit_err[i] = ol.fit_error_ratio(f.fit.error, f.landmarks)
            if fit_err[i] > opt.max_fit_error:
                reasons[i] = f"3D fit failed (residual {fit_err[i]:.3f} of the face size > {opt.max_fit_error})"
        if reasons[i] is None and conf < opt.min_confidence:
            reasons[i] = f"landmarks not trusted (confidence {conf:.2f} < {opt.min_confidence})"

    ok = [i for i in range(n) if reasons[i] is None] or list(range(n))
    shape = target_shape([aligned[i] for i in ok], tpl, opt.shape)
    pw = PiecewiseWarp.build(shape, (size, size))
    stack, valid = warp_faces(images, aligned, pw, crops)
    region = inner_mask(shape, (size, size))

    # quality
    iod_out = inter_ocular(shape)
    sharp = np.array([gradient_energy(stack[i], region & valid[i]) if (region & valid[i]).any() else 0.0
                      for i in range(n)])
    res = np.array([inter_ocular(f.landmarks) / max(iod_out, 1e-9) for f in faces])
    front = np.array([frontalness(f.pose.yaw if f.pose else None, f.pose.pitch if f.pose else None, f.landmarks)
                      for f in faces])
    conf = np.array([float(np.mean(f.landmark_scores)) if f.landmark_scores is not None else 1.0 for f in faces])
    quality = photo_qualities(sharp, res, front, conf)

    # consensus among the photos not already left out (facealign.merge.outliers)
    cand = np.array([r is None for r in reasons])
    check = ol.check_photos(images, faces, cand, opt.outlier_threshold)
    for i in np.flatnonzero(check.flags):
        reasons[i] = check.reason(i)
    dist = check.score
    used = [r is None for r in reasons]
    if not any(used):
        raise ValueError("every photo was left out; nothing to merge")
    sel = np.flatnonzero(used)
    w = np.array([max(quality[i].weight, 1e-3) if opt.weights == "quality" else 1.0 for i in sel])
    if photo_weights is not None:
        w = w * np.maximum(np.asarray(photo_weights, dtype=np.float64)[sel], 1e-4)
    normed = match_colours(stack[sel], valid[sel], region, w)
    fused, _ = robust_fuse(normed, valid[sel], w, reject=opt.reject, method=opt.fusion)
    return WarpMerge(image=to_uint8(fused), shape=shape, used=used, reasons=reasons, quality=quality,
                     distance=dist, fit_error=fit_err, warped=list(stack), valid=list(valid),
                     consensus=check)
