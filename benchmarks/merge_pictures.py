"""The pictures of docs/merge.md, from the packaged public-domain sample only (no data set images).

    python benchmarks/merge_pictures.py [--out docs/images]

Six "photos" of one person are made from the sample: its face turned in 3D (the sample fitted, its texture baked and
rendered at yaw -35..35 over a blurred copy of the photo), plus rotations, scale, lighting and focus changes.
Each is merged by `facealign merge --method mean | warp | 3d` (3d also at yaw 30); one sheet shows the inputs and
the results side by side.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def turned(img: np.ndarray, fa, yaw: float) -> np.ndarray:
    """The sample's face re-rendered turned by ``yaw`` degrees (about the head's own axis) over the photo."""
    from facealign.face3d.pose import angles_from_rotation, rotation_from_angles
    from facealign.face3d.texture import bake, fill_texture, load_atlas, project, render, surface_vertices
    from facealign.types import Fit3D

    f = fa.detect(img)[0]
    fa.fit3d(img, [f])
    atlas = load_atlas(512)
    verts = surface_vertices(f.fit.identity, f.fit.expression)
    b = bake(img, f.fit, verts, atlas, landmarks68=f.landmarks)
    tex, _ = fill_texture(atlas.to_image(b.colour), atlas.to_image(b.weight[:, None])[..., 0], atlas)
    y0, p0, r0 = angles_from_rotation(f.fit.rotation)
    fit = Fit3D(**{**f.fit.__dict__, "rotation": rotation_from_angles(y0 + yaw, p0, r0)})
    p = project(fit, verts)
    face, mask = render(tex, atlas, p[:, :2], p[:, 2], (img.shape[1], img.shape[0]))
    out = cv2.GaussianBlur(img, (0, 0), 6)
    m = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 1.5)[..., None]
    return np.clip(face * m + out * (1 - m), 0, 255).astype(np.uint8)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from facealign.pipeline import FaceAligner
    from facealign.samples import sample_path

    img = cv2.imread(str(sample_path()))
    h, w = img.shape[:2]
    fa = FaceAligner()
    photos = [turned(img, fa, -35), turned(img, fa, 35), turned(img, fa, 20)]
    for angle, scale, gain, blur in ((8, 0.9, 1.0, 0), (-6, 1.1, 0.7, 0), (0, 0.8, 1.25, 2.0)):
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
        p = cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT).astype(np.float32) * gain
        p = cv2.GaussianBlur(p, (0, 0), blur) if blur else p
        photos.append(np.clip(p, 0, 255).astype(np.uint8))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, p in enumerate(photos):
            paths.append(str(Path(tmp) / f"photo{i}.png"))
            cv2.imwrite(paths[-1], p)
        for method, extra in (("mean", []), ("warp", []), ("3d", []), ("3d", ["--pose", "30,0,0"])):
            out = Path(tmp) / f"{method}{len(results)}.png"
            subprocess.run([sys.executable, "-m", "facealign.cli.main", "merge", *paths, "--out", str(out),
                            "--method", method, "--size", "192", "-q", *extra], check=True)
            results.append(cv2.imread(str(out)))
    thumbs = [cv2.resize(p, (128, 128), interpolation=cv2.INTER_AREA) for p in photos]
    top = np.hstack(thumbs)
    bottom = np.hstack([cv2.resize(r, (192, 192)) for r in results])
    pad = np.full((top.shape[0], bottom.shape[1] - top.shape[1], 3), 255, np.uint8) if bottom.shape[1] > top.shape[1] else None
    top = np.hstack([top, pad]) if pad is not None else top
    args.out.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out / "merge_inputs.jpg"), top, [cv2.IMWRITE_JPEG_QUALITY, 88])
    cv2.imwrite(str(args.out / "merge_results.jpg"), bottom, [cv2.IMWRITE_JPEG_QUALITY, 88])
    print(f"wrote {args.out / 'merge_inputs.jpg'} and {args.out / 'merge_results.jpg'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
