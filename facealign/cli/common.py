"""Arguments and reporting shared by the batch commands (`align`, `pose`): parse -> options -> call -> print."""
from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from typing import Iterator

from facealign.alignment.templates import TEMPLATES
from facealign.io.inputs import printable
from facealign.jobs.batch import run_batch
from facealign.jobs.batch_options import BatchOptions, load_boxes_file
from facealign.jobs.options import OptionsError


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {v}")
    return v


def positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {v}")
    return v


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM ends the command as Ctrl-C does (outputs finished and kept, workers stopped, exit status 130)
    instead of killing it mid-write."""
    def handler(signum, frame):
        raise KeyboardInterrupt

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def add_batch_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", metavar="PATH", help="image files, folders (searched recursively) or globs")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="output folder (results.jsonl, crops/, overlays/)")
    p.add_argument("--template", default="arcface112", choices=sorted(TEMPLATES), help="crop template (default arcface112)")
    p.add_argument("--size", type=positive_int, help="crop size in pixels (default: the template's)")
    p.add_argument("--boxes", metavar="FILE", help="JSON {image path: [[x1,y1,x2,y2],...]}: skip detection, use these boxes")
    p.add_argument("--det-size", type=positive_int, help="cap the detector's working size (long side, pixels; default: the photo's own resolution, docs/detection.md)")
    p.add_argument("--det-threshold", type=float, help="minimum detection score (default: the model's calibrated one)")
    p.add_argument("--verify", type=float, default=0.4, metavar="T", help="drop detections whose mean landmark confidence is below T (0 keeps all; default 0.4)")
    p.add_argument("--no-tta", action="store_true", help="one landmark pass per face (default: the crop and its mirror, averaged: ~4%% lower error, 2x landmark time)")
    p.add_argument("--landmarks-model", metavar="NAME", help="landmark network: a registered name (stfan-lmk-112, the default; stfan-lmk-112-fast: half the cost) or an .onnx file (`facealign models`)")
    p.add_argument("--fast", action="store_true", help="skip the 68-point network; align on the detector's 5 points")
    p.add_argument("--refine", action="store_true", help="second landmark pass on a re-centred, upright crop")
    p.add_argument("--camera", default="weak_perspective", choices=["weak_perspective", "perspective"], help="3D camera model")
    p.add_argument("--focal", type=positive_float, help="focal length in pixels for the perspective camera (default: estimated)")
    p.add_argument("--meshes", action="store_true", help="with 3D: also write each fitted mesh as OBJ under meshes/")
    p.add_argument("--no-crops", action="store_true", help="do not write aligned crops")
    p.add_argument("--no-overlays", action="store_true", help="do not write overlay pictures")
    p.add_argument("--crop-format", default="png", choices=["png", "jpg", "webp"], help="crop file format")
    p.add_argument("--max-pixels", type=positive_int, default=40_000_000, help="larger JPEGs decode at reduced scale; other formats are refused")
    p.add_argument("--resume", action="store_true", help="skip inputs already done in DIR/results.jsonl")
    p.add_argument("--jobs", "-j", type=positive_int, default=1, help="worker processes (default 1)")
    p.add_argument("--threads", type=positive_int, help="onnxruntime threads per process (Ray: per actor)")
    p.add_argument("--engine", default="local", choices=["local", "ray"],
                   help="local: this machine (--jobs processes); ray: a Ray cluster (--jobs actors; needs facealign[ray])")
    p.add_argument("--address", metavar="ADDR", help="Ray cluster address (e.g. auto or HEAD:6379); default: a local Ray instance")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary (errors still print)")


def options_from_args(args: argparse.Namespace, fit3d: bool) -> BatchOptions:
    """The batch options of a command line, checked (``OptionsError`` when they cannot work)."""
    boxes = load_boxes_file(args.boxes) if args.boxes else None
    return BatchOptions(
        out=args.out,
        template=args.template,
        size=args.size,
        boxes=boxes,
        det_size=args.det_size,
        det_threshold=args.det_threshold,
        fast=args.fast,
        landmarks_model=args.landmarks_model,
        refine=args.refine,
        verify=args.verify,
        tta=not args.no_tta,
        fit3d=fit3d,
        camera=args.camera,
        focal=args.focal,
        meshes=args.meshes,
        crops=not args.no_crops,
        overlays=not args.no_overlays,
        crop_format=args.crop_format,
        max_pixels=args.max_pixels,
        threads=args.threads,
        jobs=args.jobs,
        resume=args.resume,
        engine=args.engine,
        address=args.address,
    ).validate()


def run_and_report(args: argparse.Namespace, fit3d: bool) -> int:
    """Options from ``args``, the batch with a progress bar, errors as they come and a summary; the exit status
    (0 all inputs done, 1 some failed, 2 bad arguments)."""
    from tqdm import tqdm

    def on_error(path: str, message: str) -> None:
        tqdm.write(f"facealign: error: {printable(path)}: {printable(message)}", file=sys.stderr)

    def on_warning(path: str, message: str) -> None:  # e.g. only the first page of a multi-page TIFF was read
        tqdm.write(f"facealign: warning: {printable(path)}: {printable(message)}", file=sys.stderr)

    try:
        opts = options_from_args(args, fit3d)
    except OptionsError as e:  # bad arguments: like the argument parser's own errors
        sys.stderr.write(f"facealign: error: {e}\n")
        raise SystemExit(2) from None
    try:
        with terminate_as_interrupt():
            summary = run_batch(args.inputs, opts, progress=not args.quiet, on_error=on_error, on_warning=on_warning)
    except OptionsError as e:
        sys.stderr.write(f"facealign: error: {e}\n")
        return 2
    if not args.quiet:
        rate = summary.images / summary.seconds if summary.seconds > 0 else 0.0
        skipped = f", {summary.skipped} already done" if summary.skipped else ""
        sys.stderr.write(
            f"facealign: {summary.images} images, {summary.faces} faces, {summary.failed} failed{skipped}"
            f" in {summary.seconds:.1f} s ({rate:.1f} images/s) -> {opts.out}/results.jsonl\n"
        )
    if summary.failed:
        sys.stderr.write(f"facealign: {summary.failed} of {summary.images} inputs failed\n")
        return 1
    return 0
