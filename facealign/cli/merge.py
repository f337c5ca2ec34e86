"""`facealign merge PHOTO... --out FILE`: photos of one person fused into one unified, aligned face."""
from __future__ import annotations

import argparse
import sys

from facealign.alignment.templates import TEMPLATES
from facealign.io.inputs import printable
from facealign.jobs.merge import METHODS, MergeOptions, run_merge
from facealign.jobs.options import OptionsError


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "merge",
        help="fuse photos of one person into one unified face",
        description="Align the main (largest) face of every photo and fuse them into FILE, with a .json report"
        " beside it (which photos were used, and why not). --method warp (default): each face warped onto the set's"
        " mean shape, fused robustly (+ FILE_sheet); mean: the similarity-aligned mean (+ FILE_median, FILE_sheet);"
        " 3d: colours fused on the 3D face model, rendered at --pose (+ FILE.obj, FILE.mtl, FILE_texture.png).",
    )
    p.add_argument("inputs", nargs="+", metavar="PHOTO", help="photos, folders or globs")
    p.add_argument("--out", "-o", required=True, metavar="FILE", help="output image (.png or .jpg)")
    p.add_argument("--template", default="mean68", choices=sorted(TEMPLATES))
    p.add_argument("--size", type=int, default=256, help="composite size in pixels (default 256)")
    p.add_argument("--method", default="warp", choices=sorted(METHODS), help="fusion method (default warp)")
    p.add_argument("--pose", metavar="YAW,PITCH,ROLL", help="--method 3d: pose of the rendered face in degrees"
                   " (default frontal)")
    p.add_argument("--quiet", "-q", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    def on_error(path: str, message: str) -> None:
        tqdm.write(f"facealign: error: {printable(path)}: {printable(message)}", file=sys.stderr)

    try:
        opts = MergeOptions(out=args.out, template=args.template, size=args.size, method=args.method,
                            pose=args.pose).validate()
        summary = run_merge(args.inputs, opts, progress=not args.quiet, on_error=on_error)
    except OptionsError as e:
        sys.stderr.write(f"facealign: error: {e}\n")
        return 2
    if not summary.merged:
        sys.stderr.write("facealign: error: no face could be aligned; nothing to merge\n")
        return 1
    if not args.quiet:
        sys.stderr.write(f"facealign: merged {summary.merged} faces -> {opts.out}\n")
    if summary.failed:
        sys.stderr.write(f"facealign: {summary.failed} of {len(summary.inputs)} inputs failed\n")
        return 1
    return 0
