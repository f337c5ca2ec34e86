"""`facealign body PHOTOS... --out DIR [--boxes FILE]`: people, their 14 body joints, upper-body and full-body
crops, skeleton overlays and DIR/results.jsonl (docs/body.md)."""
from __future__ import annotations

import argparse
import sys

from facealign.cli.common import positive_int
from facealign.io.inputs import printable
from facealign.jobs.batch_options import load_boxes_file
from facealign.jobs.body import BodyOptions, run_body
from facealign.jobs.options import OptionsError


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "body",
        help="14 body joints of the people in photos (upper/full-body crops, skeleton overlays, results.jsonl)",
        description="Find each person (from --boxes, from each detected face, or the whole photo when it has no "
        "face), predict the 14 LSP body joints and write upper-body and full-body crops, skeleton overlays and "
        "DIR/results.jsonl (one line per input, in input order).",
    )
    p.add_argument("inputs", nargs="+", metavar="PATH", help="image files, folders (searched recursively) or globs")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="output folder (results.jsonl, crops/, overlays/)")
    p.add_argument("--boxes", metavar="FILE", help="JSON {image path: [[x1,y1,x2,y2],...]}: person boxes to use")
    p.add_argument("--body-model", metavar="NAME", help="body network: a registered name or an .onnx file")
    p.add_argument("--size", type=positive_int, help="crop width in pixels (default 256; full-body crops are twice as high)")
    p.add_argument("--det-size", type=positive_int, help="face detector working size, long side in pixels")
    p.add_argument("--no-crops", action="store_true", help="do not write body crops")
    p.add_argument("--no-overlays", action="store_true", help="do not write skeleton overlays")
    p.add_argument("--crop-format", default="png", choices=["png", "jpg", "webp"], help="crop file format")
    p.add_argument("--max-pixels", type=positive_int, default=40_000_000, help="larger JPEGs decode at reduced scale; other formats are refused")
    p.add_argument("--tta", action="store_true", help="the body network also on each mirrored crop, averaged (2x its time)")
    p.add_argument("--passes", type=positive_int, default=3, metavar="N",
                   help="body network passes per person: the first on the person box, each further one on the box of "
                   "the joints found, stopping once it stays put (default 3; 1 = no refinement; docs/body.md)")
    p.add_argument("--jobs", "-j", type=positive_int, default=1, help="worker processes (default 1)")
    p.add_argument("--threads", type=positive_int, help="onnxruntime threads per process (Ray: per actor)")
    p.add_argument("--engine", default="local", choices=["local", "ray"],
                   help="local: this machine (--jobs processes); ray: a Ray cluster (--jobs actors; needs facealign[ray])")
    p.add_argument("--address", metavar="ADDR", help="Ray cluster address (e.g. auto or HEAD:6379); default: a local Ray instance")
    p.add_argument("--resume", action="store_true", help="skip inputs already done in DIR/results.jsonl")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary (errors still print)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    def on_error(path: str, message: str) -> None:
        tqdm.write(f"facealign: error: {printable(path)}: {printable(message)}", file=sys.stderr)

    try:
        opts = BodyOptions(
            out=args.out, boxes=load_boxes_file(args.boxes) if args.boxes else None, body_model=args.body_model,
            size=args.size, det_size=args.det_size, crops=not args.no_crops, overlays=not args.no_overlays,
            crop_format=args.crop_format, max_pixels=args.max_pixels, threads=args.threads, resume=args.resume,
            tta=args.tta, passes=args.passes, jobs=args.jobs, engine=args.engine, address=args.address,
        ).validate()
        summary = run_body(args.inputs, opts, progress=not args.quiet, on_error=on_error)
    except OptionsError as e:
        sys.stderr.write(f"facealign: error: {e}\n")
        return 2
    if not args.quiet:
        skipped = f", {summary.skipped} already done" if summary.skipped else ""
        sys.stderr.write(f"facealign: {summary.images} images, {summary.faces} bodies, {summary.failed} failed"
                         f"{skipped} in {summary.seconds:.1f} s -> {opts.out}/results.jsonl\n")
    if summary.failed:
        sys.stderr.write(f"facealign: {summary.failed} of {summary.images} inputs failed\n")
        return 1
    return 0
