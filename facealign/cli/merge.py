"""`facealign merge PHOTO... --out FILE`: photos of one person fused into one unified, aligned face."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from facealign.alignment.templates import TEMPLATES


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "merge",
        help="fuse photos of one person into one unified face",
        description="Align the main (largest) face of every photo to one template and fuse them: FILE is the mean"
        " composite; FILE's stem + _median and + _sheet (contact sheet of the aligned faces) and a .json report"
        " are written beside it.",
    )
    p.add_argument("inputs", nargs="+", metavar="PHOTO", help="photos, folders or globs")
    p.add_argument("--out", "-o", required=True, metavar="FILE", help="output image (.png or .jpg)")
    p.add_argument("--template", default="mean68", choices=sorted(TEMPLATES))
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--quiet", "-q", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from facealign.io.atomic import write_bytes_atomic, write_image_atomic
    from facealign.io.images import ImageError, load_image
    from facealign.io.inputs import expand_inputs
    from facealign.alignment.merge import merge_crops
    from facealign.pipeline import FaceAligner

    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp"):
        sys.stderr.write(f"facealign: error: --out must end in .png, .jpg or .webp: {out}\n")
        return 2
    fa = FaceAligner()
    crops, masks, report, failed = [], [], [], 0
    for item in tqdm(expand_inputs(args.inputs), disable=args.quiet, unit="img", desc="merge"):
        entry = {"image": item.path, "error": item.error}
        if not item.error:
            try:
                img = load_image(item.path).pixels
                faces = fa.detect(img)
                if not faces:
                    entry["error"] = "no face found"
                else:
                    main = max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]) * f.score)
                    a = fa.align(img, [main], template=args.template, size=args.size)[0]
                    ones = np.full(img.shape[:2], 255, np.uint8)
                    masks.append(cv2.warpAffine(ones, a.transform, (args.size, args.size), flags=cv2.INTER_NEAREST))
                    crops.append(a.image)
                    entry["box"] = np.round(main.box, 2).tolist()
            except ImageError as e:
                entry["error"] = str(e)
        if entry["error"]:
            failed += 1
            tqdm.write(f"facealign: error: {item.path}: {entry['error']}", file=sys.stderr)
        report.append(entry)
    if not crops:
        sys.stderr.write("facealign: error: no face could be aligned; nothing to merge\n")
        return 1
    merged = merge_crops(crops, masks)
    write_image_atomic(out, merged.mean)
    write_image_atomic(out.with_name(out.stem + "_median" + out.suffix), merged.median)
    write_image_atomic(out.with_name(out.stem + "_sheet" + out.suffix), merged.sheet)
    summary = {"template": args.template, "size": args.size, "merged": merged.count, "inputs": report}
    write_bytes_atomic(out.with_suffix(".json"), json.dumps(summary, indent=1).encode())
    if not args.quiet:
        sys.stderr.write(f"facealign: merged {merged.count} faces -> {out}\n")
    if failed:
        sys.stderr.write(f"facealign: {failed} of {len(report)} inputs failed\n")
        return 1
    return 0
