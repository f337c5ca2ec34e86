"""Evaluation of multi-photo merging on sets of photos per person (YouTube Faces val: person = the file name
before its ``_VF`` video/frame suffix).

- Sharpness: the gradient energy of the inner face (points 17-67's hull) of each composite over that of the plain
  similarity-aligned mean (``--method mean``), per person; target: >= 1.15 for >= 90% of people.
- Leave-one-out (3D against 2D): fuse all photos but one; show the unified face as the held-out photo would show
  it (3D: rendered at its fitted pose, camera and shape; 2D: the warp composite warped piecewise onto its points)
  and compare with the photo in the face region (mean absolute grey-level error after matching the mean
  brightness, and the landmark error of the landmark model re-run on the rendering, over the inter-ocular
  distance), on the held-out photos whose |yaw| is at least ``non_frontal`` degrees.
- Outliers: one photo of another person put into each set (the next person's first photo); how often it is left
  out, and how many of the person's own photos are, by the warp and 3d merges; and the consensus check alone on
  every set with each other person's first photo, in two regimes (facealign.evaluation.merge_outliers), at the
  shipped operating points.
- Timing: the fusion of the largest set, measured.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from facealign.merge.mean import merge_crops
from facealign.alignment.piecewise import PiecewiseWarp, inside, remap_antialiased
from facealign.alignment.templates import fit_template
from facealign.alignment.transforms import apply, estimate_similarity, invert
from facealign.data.pts import read_pts_file
from facealign.merge.quality import gradient_energy, inner_mask
from facealign.merge.warp import WarpOptions, warp_merge
from facealign.types import Face

_NAME = re.compile(r"^(?P<person>.+?)_\d+(_t)?$")


def person_sets(folder: str | Path, min_photos: int = 2) -> dict[str, list[Path]]:
    """Photos per person of a folder named ``Person_Name_VF[_t].jpg``, sorted by name."""
    sets: dict[str, list[Path]] = {}
    for p in sorted(Path(folder).glob("*.jpg")):
        m = _NAME.match(p.stem)
        if m:
            sets.setdefault(m["person"], []).append(p)
    return {k: v for k, v in sets.items() if len(v) >= min_photos}


def main_face(faces: list[Face]) -> Face | None:
    """The largest (by the detector's box), surest face of a photo."""
    if not faces:
        return None
    return max(faces, key=lambda f: (f.found_box[2] - f.found_box[0]) * (f.found_box[3] - f.found_box[1]) * f.score)


@dataclass
class PhotoSet:
    """A person's photos with their main faces (landmarks, 3D fit and pose filled in)."""

    person: str
    paths: list[Path]
    images: list[np.ndarray]
    faces: list[Face]


def load_set(person: str, paths: list[Path], aligner, landmarks: str = "pipeline") -> PhotoSet:
    """Read the photos, find each one's main face (``landmarks="gt"``: the labelled points instead of the landmark
    model's), fit the 3D model. Photos without a face are dropped."""
    kept, images, faces = [], [], []
    for p in paths:
        img = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if img is None:
            continue
        if landmarks == "gt":
            lm = read_pts_file(p.with_suffix(".pts"))
            f = Face(box=np.r_[lm.min(0), lm.max(0)], score=1.0, landmarks=lm, landmark_scores=np.ones(68))
        else:
            f = main_face(aligner.detect(img))
            if f is None:
                continue
        aligner.fit3d(img, [f])
        kept.append(p)
        images.append(img)
        faces.append(f)
    return PhotoSet(person, kept, images, faces)


def plain_mean(images: list[np.ndarray], faces: list[Face], size: int, template: str = "mean68") -> np.ndarray:
    """Today's ``--method mean``: similarity-aligned crops averaged (outside-the-photo pixels excluded)."""
    crops, masks = [], []
    for img, f in zip(images, faces):
        m = fit_template(template, size, landmarks68=f.landmarks)
        crops.append(cv2.warpAffine(img, m, (size, size), flags=cv2.INTER_LINEAR))
        masks.append(cv2.warpAffine(np.full(img.shape[:2], 255, np.uint8), m, (size, size), flags=cv2.INTER_NEAREST))
    return merge_crops(crops, masks).mean


def mean_aligned_shape(faces: list[Face], size: int, template: str = "mean68") -> np.ndarray:
    """The mean of the similarity-aligned shapes: where the plain mean's face is."""
    return np.mean([apply(fit_template(template, size, landmarks68=f.landmarks), f.landmarks) for f in faces], 0)


@dataclass
class SharpnessRow:
    person: str
    photos: int
    used: int
    mean_energy: float
    energy: dict[str, float] = field(default_factory=dict)  # method -> gradient energy
    seconds: dict[str, float] = field(default_factory=dict)
    used_by: dict[str, int] = field(default_factory=dict)  # method -> photos it used (the rest were left out)

    def ratio(self, method: str) -> float:
        return self.energy[method] / max(self.mean_energy, 1e-9)


def sharpness_row(s: PhotoSet, size: int, methods: dict) -> SharpnessRow:
    """Gradient energies of the plain mean and of each method's composite (``methods``: name -> function
    (images, faces) -> (image, used count)), all over the inner face of the mean aligned shape."""
    region = inner_mask(mean_aligned_shape(s.faces, size), (size, size))
    base = plain_mean(s.images, s.faces, size)
    row = SharpnessRow(s.person, len(s.faces), len(s.faces), gradient_energy(base, region))
    for name, fn in methods.items():
        t0 = time.perf_counter()
        img, used = fn(s.images, s.faces)
        row.seconds[name] = time.perf_counter() - t0
        row.energy[name] = gradient_energy(img, region)
        row.used = used
        row.used_by[name] = used
    return row


def warp_method(size: int, **kw):
    """The warp fusion as a ``methods`` entry of sharpness_row."""
    opt = WarpOptions(size=size, **kw)

    def run(images, faces):
        r = warp_merge(images, faces, opt)
        return r.image, r.count

    return run


# ---------------------------------------------------------------- leave-one-out helpers (2D)
def warp_to_photo(composite: np.ndarray, shape: np.ndarray, photo: np.ndarray, face: Face) -> tuple[np.ndarray, np.ndarray]:
    """The warp composite (its face on ``shape``) warped onto a photo's face: (image of the photo's size, mask of
    the pixels it covers). The composite's frame is mapped by a similarity onto the photo first, then the
    piecewise warp moves its 68 points onto the photo's."""
    h, w = photo.shape[:2]
    m = estimate_similarity(shape[17:], face.landmarks[17:])  # composite -> photo
    # in the photo frame: destination = the photo's points; source = the composite's points under m
    pw = PiecewiseWarp.build(face.landmarks, (w, h))
    src = apply(m, shape)
    mx, my = pw.maps(src, pre=invert(m))
    size = composite.shape[1], composite.shape[0]
    return remap_antialiased(composite, mx, my), inside(mx, my, size)


def face_region(face: Face, size: tuple[int, int]) -> np.ndarray:
    """The inner face region (hull of points 17-67) of a photo's face."""
    return inner_mask(face.landmarks, size)


def photometric_error(render: np.ndarray, photo: np.ndarray, region: np.ndarray) -> float:
    """Mean absolute grey-level difference over ``region`` after matching the rendering's mean to the photo's."""
    a = cv2.cvtColor(render, cv2.COLOR_BGR2GRAY).astype(np.float32)[region]
    b = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY).astype(np.float32)[region]
    if a.size == 0:
        return float("nan")
    return float(np.abs(a - a.mean() + b.mean() - b).mean())


def landmark_error(aligner, render: np.ndarray, region: np.ndarray, photo: np.ndarray, face: Face) -> float:
    """The landmark model re-run on the photo with its face region replaced by ``render``: mean distance to the
    photo's own points over the inter-ocular (outer eye corner) distance."""
    pasted = photo.copy()
    pasted[region] = render[region]
    roll = np.degrees(np.arctan2(*(face.landmarks[45] - face.landmarks[36])[::-1]))
    got = aligner.landmarks_for_boxes(pasted, face.found_box[None], np.array([roll]))[0].landmarks
    iod = float(np.linalg.norm(face.landmarks[45] - face.landmarks[36]))
    return float(np.linalg.norm(got - face.landmarks, axis=1).mean() / max(iod, 1e-9))


@dataclass
class LeaveOneOut:
    person: str
    photo: str
    yaw: float
    photometric: dict[str, float] = field(default_factory=dict)  # method -> grey-level error
    landmarks: dict[str, float] = field(default_factory=dict)  # method -> NME of re-detected points


def leave_one_out(s: PhotoSet, aligner, size: int, non_frontal: float = 15.0, landmarks: bool = True,
                  **options3d) -> list[LeaveOneOut]:
    """For every held-out photo of |yaw| >= ``non_frontal``: the 3D fusion of the others rendered at its fit, and
    the warp fusion of the others warped onto its points, compared with the photo (``landmarks``: also re-detect
    the landmarks on both; ``options3d``: Texture3DOptions fields)."""
    from facealign.merge.texture3d import Texture3DOptions, bake_set, fuse_texture, render_fit, view_weights

    opt3 = Texture3DOptions(size=size, **options3d)
    bs = bake_set(s.images, s.faces, opt3)
    ok = [i for i, r in enumerate(bs.reasons) if r is None]
    rows = []
    for j, (photo, face) in enumerate(zip(s.images, s.faces)):
        yaw = face.pose.yaw if face.pose is not None else 0.0
        others = [i for i in ok if i != j]
        if abs(yaw) < non_frontal or j not in ok or len(others) < 2:
            continue
        h, w = photo.shape[:2]
        texture, _ = fuse_texture(bs, others, opt3, view=bs.fits[j].rotation)
        r3, m3 = render_fit(texture, bs.atlas, bs.fits[j], (w, h), face.landmarks)
        wm = warp_merge([s.images[i] for i in others], [s.faces[i] for i in others], WarpOptions(size=size))
        r2, m2 = warp_to_photo(wm.image, wm.shape, photo, face)
        # the same view preference given to the 2D warp (photos weighted by their pose's nearness to the held-out
        # one), so that the 3D result is not compared only with a warp that ignores pose
        vw = view_weights([bs.fits[i] for i in others], bs.fits[j].rotation, opt3.view_tau)
        wv = warp_merge([s.images[i] for i in others], [s.faces[i] for i in others], WarpOptions(size=size),
                        photo_weights=vw)
        r2v, m2v = warp_to_photo(wv.image, wv.shape, photo, face)
        region = face_region(face, (w, h)) & m3 & m2 & m2v
        if region.sum() < 50:
            continue
        row = LeaveOneOut(s.person, s.paths[j].name, float(yaw))
        hull = inner_mask(face.landmarks, (w, h)) | _hull68(face.landmarks, (w, h))
        for name, img, m in (("3d", r3, m3), ("warp", r2, m2), ("warp_view", r2v, m2v)):
            row.photometric[name] = photometric_error(img, photo, region)
            if landmarks:
                row.landmarks[name] = landmark_error(aligner, img, hull & m, photo, face)
        rows.append(row)
    return rows


def _hull68(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    m = np.zeros((size[1], size[0]), np.uint8)
    cv2.fillConvexPoly(m, cv2.convexHull(np.round(points * 16).astype(np.int32)), 1, shift=4)
    return m.astype(bool)


@dataclass
class OutlierRow:
    person: str
    method: str
    intruder_left_out: bool
    own_left_out: int
    own: int
    left_out: list[dict] = field(default_factory=list)  # every photo left out: its name, score and reason


def outlier_rows(s: PhotoSet, intruder: tuple[np.ndarray, Face, str], size: int) -> list[OutlierRow]:
    """The set plus one photo of another person (last): is it left out, and how many own photos are?"""
    from facealign.merge.texture3d import Texture3DOptions, texture_merge

    images = s.images + [intruder[0]]
    faces = s.faces + [intruder[1]]
    names = [p.name for p in s.paths] + [intruder[2]]
    out = []
    for name, fn in (("warp", lambda: warp_merge(images, faces, WarpOptions(size=size))),
                     ("3d", lambda: texture_merge(images, faces, Texture3DOptions(size=size)))):
        r = fn()
        gone = [{"photo": names[i], "intruder": i == len(names) - 1,
                 "score": None if not np.isfinite(r.distance[i]) else round(float(r.distance[i]), 3),
                 "reason": r.reasons[i]} for i in range(len(names)) if not r.used[i]]
        out.append(OutlierRow(s.person, name, not r.used[-1], int(sum(not u for u in r.used[:-1])), len(s.faces),
                              gone))
    return out


def outlier_trials(loaded: list[PhotoSet]) -> dict:
    """The consensus check alone on many more trials: every set with each other person's first photo (30 people:
    870 sets), in both regimes of facealign.evaluation.merge_outliers, at the shipped operating points."""
    from facealign.evaluation import merge_outliers as mo

    descs = {s.person: mo.set_descriptors(s.images, s.faces) for s in loaded}
    videos = {s.person: [mo.video_of(p) for p in s.paths] for s in loaded}
    trials = [mo.build_trials(descs, videos, r, intruders=0) for r in mo.REGIMES]
    return {"sets": len(loaded) * (len(loaded) - 1), **mo.operating_table(trials)}


def summary(rows: list[SharpnessRow], method: str, target: float = 1.15) -> dict:
    r = np.array([row.ratio(method) for row in rows])
    t = np.array([row.seconds[method] for row in rows])
    return {
        "method": method, "people": len(rows), "ratio_median": float(np.median(r)), "ratio_min": float(r.min()),
        "share_at_target": float((r >= target).mean()), "target": target,
        "seconds_max": float(t.max()), "seconds_median": float(np.median(t)),
    }


def timed_merge(paths: list[Path], aligner, size: int, method: str) -> float:
    """Seconds to merge ``paths`` from files: read, detect, landmarks, 3D fit, fuse (what `facealign merge` does
    between reading its inputs and writing its pictures)."""
    from facealign.merge.texture3d import Texture3DOptions, texture_merge

    t0 = time.perf_counter()
    s = load_set("timing", paths, aligner)
    if method == "warp":
        warp_merge(s.images, s.faces, WarpOptions(size=size))
    elif method == "3d":
        texture_merge(s.images, s.faces, Texture3DOptions(size=size))
    else:
        plain_mean(s.images, s.faces, size)
    return time.perf_counter() - t0


PARTS = ("sharpness", "leave_one_out", "outliers", "timing")


def evaluate_merge(folder: Path, aligner, size: int = 256, non_frontal: float = 15.0, people: int = 0,
                   landmarks: str = "pipeline", log=print, parts: tuple[str, ...] = PARTS) -> dict:
    """The whole evaluation (see the module docstring), or only some ``parts``; returns a JSON-able dict and logs a
    line per person."""
    bad = set(parts) - set(PARTS)
    if bad:
        raise ValueError(f"unknown parts {sorted(bad)}; choose from {PARTS}")
    sets = person_sets(folder)
    names = sorted(sets)[: people or None]
    loaded = [load_set(n, sets[n], aligner, landmarks) for n in names]
    loaded = [s for s in loaded if len(s.faces) >= 3]
    from facealign.merge.texture3d import Texture3DOptions, texture_merge

    methods = {"warp": warp_method(size),
               "3d": lambda im, fa: (lambda r: (r.image, r.count))(
                   texture_merge(im, fa, Texture3DOptions(size=size)))}
    sharp, loo, outl = [], [], []
    for k, s in enumerate(loaded):
        line = f"{s.person:32s} photos {len(s.faces):2d}"
        if "sharpness" in parts:
            row = sharpness_row(s, size, methods)
            sharp.append(row)
            line += f"  warp x{row.ratio('warp'):.2f}  3d x{row.ratio('3d'):.2f}"
        if "leave_one_out" in parts:
            rows = leave_one_out(s, aligner, size, non_frontal)
            loo += rows
            mean = {m: np.mean([r.photometric[m] for r in rows]) if rows else float("nan") for m in ("3d", "warp")}
            line += f"  loo {len(rows)}: 3d {mean['3d']:.2f} warp {mean['warp']:.2f}"
        if "outliers" in parts:
            other = loaded[(k + 1) % len(loaded)]
            rows_o = outlier_rows(s, (other.images[0], other.faces[0], other.paths[0].name), size)
            outl += rows_o
            line += "  intruder out: " + " ".join(f"{o.method} {'yes' if o.intruder_left_out else 'no'}"
                                                  f" (+{o.own_left_out} own)" for o in rows_o)
        log(line)

    def loo_summary(key: str) -> dict:
        a = np.array([r.photometric[key] for r in loo])
        lm = np.array([r.landmarks[key] for r in loo if key in r.landmarks])
        return {"photometric_mean": float(a.mean()), "photometric_median": float(np.median(a)),
                "landmark_nme_mean": float(lm.mean()) if lm.size else None}

    result = {
        "people": len(loaded), "photos": int(sum(len(s.faces) for s in loaded)), "size": size,
        "landmarks": landmarks, "parts": list(parts),
    }
    if "sharpness" in parts:
        result["sharpness"] = {m: summary(sharp, m) for m in methods}
        result["sharpness_per_person"] = [{"person": r.person, "photos": r.photos, "mean_energy": r.mean_energy,
                                           **{f"ratio_{m}": r.ratio(m) for m in methods},
                                           **{f"used_{m}": r.used_by.get(m) for m in methods}} for r in sharp]
        # the sets without an intruder: own photos the consensus check left out anyway (false rejections)
        result["own_left_out_without_intruder"] = {
            m: {"own_left_out": int(sum(r.photos - r.used_by[m] for r in sharp)),
                "own": int(sum(r.photos for r in sharp))} for m in methods}
    if "leave_one_out" in parts and loo:
        result["leave_one_out"] = {
            "non_frontal_deg": non_frontal, "held_out": len(loo),
            "3d": loo_summary("3d"), "warp": loo_summary("warp"), "warp_view": loo_summary("warp_view"),
            "3d_better_than_warp_view_share": float(np.mean([r.photometric["3d"] < r.photometric["warp_view"]
                                                             for r in loo])),
            "3d_better_share": float(np.mean([r.photometric["3d"] < r.photometric["warp"] for r in loo])),
            "rows": [{"person": r.person, "photo": r.photo, "yaw": r.yaw, "photometric": r.photometric,
                      "landmarks": r.landmarks} for r in loo],
        }
    if "outliers" in parts:
        result["outliers"] = {
            m: {"intruder_left_out": float(np.mean([o.intruder_left_out for o in outl if o.method == m])),
                "own_left_out": int(sum(o.own_left_out for o in outl if o.method == m)),
                "own": int(sum(o.own for o in outl if o.method == m)),
                "false_rejection": float(sum(o.own_left_out for o in outl if o.method == m)
                                         / max(sum(o.own for o in outl if o.method == m), 1)),
                "left_out": [{"set": o.person, **g} for o in outl if o.method == m for g in o.left_out]}
            for m in ("warp", "3d")}
        result["outlier_trials"] = outlier_trials(loaded)
    if "timing" in parts:
        largest = max(loaded, key=lambda s: len(s.paths))
        timing = {m: timed_merge(largest.paths, aligner, size, m) for m in ("mean", "warp", "3d")}
        result["timing"] = {"photos": len(largest.paths), "person": largest.person, "seconds": timing}
    return result
