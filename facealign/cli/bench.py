"""`facealign bench`: per-stage latency and pipeline frames/second on this CPU (facealign.evaluation.speed)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from facealign.cli.model_options import add_landmarks_model


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "bench",
        help="measure per-stage latency and frames/second on this CPU",
        description="Time decode, detect, landmarks, 3D fit and align on one-face and many-face photos at 640x480 "
        "and 1280x720 (made from the packaged sample photo) for each thread count: median and p90 of --runs runs "
        "after --warmup runs. Pipeline = detect + landmarks + align, exactly the stages `align` runs.",
    )
    p.add_argument("--runs", type=int, default=50, help="timed runs per photo (default 50)")
    p.add_argument("--warmup", type=int, default=5, help="untimed runs first (default 5)")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts to measure (default 1 2)")
    p.add_argument("--sizes", nargs="+", default=["640x480", "1280x720"], help="photo sizes WxH (default 640x480 1280x720)")
    p.add_argument("--folder", metavar="DIR", help="also time the photos of this folder (up to 20, as they are)")
    p.add_argument("--det-size", type=int, help="cap the detector's working size (long side, pixels; default: the photo's own resolution)")
    p.add_argument("--no-3d", action="store_true", help="skip the 3D fit stage")
    p.add_argument("--no-tta", action="store_true", help="one landmark pass per face, as `align --no-tta` (default: with the mirrored pass)")
    p.add_argument("--detector-model", metavar="NAME", help="time this detector: a registered name or an .onnx file (default: the shipped one)")
    add_landmarks_model(p, "time this landmark network: a registered name (e.g. stfan-lmk-112-fast) or an .onnx file "
                        "(default: stfan-lmk-112)")
    p.add_argument("--batches", type=int, nargs="*", default=[1, 8, 32],
                   help="also time the landmark network alone on batches of these sizes (ms per face); none to skip")
    p.add_argument("--quick", action="store_true",
                   help="a short check: 5 runs after 1 warm-up, 1 thread, 640x480 only, no batch table")
    p.add_argument("--json", metavar="FILE", help="save rows and environment as JSON")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    p.set_defaults(func=run)


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"facealign: error: --sizes wants WxH like 640x480, got {text!r}") from None
    return w, h


def run(args: argparse.Namespace, make_aligner=None) -> int:
    from facealign.evaluation import speed
    from facealign.pipeline import AlignerOptions

    if args.quick:
        args.runs, args.warmup, args.threads, args.sizes, args.batches = 5, 1, [1], ["640x480"], []
    try:  # the one model-choice check, before any process starts
        AlignerOptions(detector_model=args.detector_model, landmarks_model=args.landmarks_model).check()
    except ValueError as e:
        sys.stderr.write(f"facealign: error: {e}\n")
        return 2
    if args.runs < 1 or args.warmup < 0 or min(args.threads) < 1:
        sys.stderr.write("facealign: error: --runs and --threads must be >= 1, --warmup >= 0\n")
        return 2
    photos = speed.standard_photos(sizes=[_size(s) for s in args.sizes])
    if args.folder:
        extra = speed.folder_photos(args.folder)
        if not extra:
            sys.stderr.write(f"facealign: error: no photos found in {args.folder}\n")
            return 2
        photos += extra
    say = None if args.quiet else (lambda m: sys.stderr.write(f"bench: {m}\n"))
    batches: dict[int, dict[int, float]] = {}
    try:
        rows = speed.run_benchmark(
            photos, tuple(args.threads), args.runs, args.warmup, fit3d=False if args.no_3d else None,
            make_aligner=make_aligner, detector_path=args.detector_model, landmarks_path=args.landmarks_model,
            det_size=args.det_size, progress=say, tta=not args.no_tta, batches=tuple(args.batches or ()),
            landmark_times=batches,
        )
    except (FileNotFoundError, ValueError) as e:
        sys.stderr.write(f"facealign: error: {e}\n")
        return 1
    env = speed.environment()
    print(f"facealign bench: landmarks {'one pass' if args.no_tta else 'with the mirrored pass (--no-tta: one)'}; "
          f"{env['cores']} cores ({env['cpu']}), load average {env['load_avg_1min']}, "
          f"onnxruntime {env['onnxruntime']}, OpenCV {env['opencv']}; times in ms, median of {args.runs} runs")
    print(speed.format_table(rows))
    if batches:
        # the pipeline's own landmark session (on the shared pool of t threads; one thread when t is 1)
        print("\nlandmark network alone, ms per face by batch size:")
        print("| threads | " + " | ".join(f"batch {n}" for n in args.batches) + " |")
        print("|---|" + "---|" * len(args.batches))
        for t, b in batches.items():
            print(f"| {t} | " + " | ".join(f"{b[n]:.2f}" for n in args.batches) + " |")
    if args.json:
        doc = {"environment": env, "runs": args.runs, "warmup": args.warmup, "rows": speed.rows_to_json(rows),
               "landmark_batches_ms_per_face": {str(t): {str(n): v for n, v in b.items()} for t, b in batches.items()}}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(doc, indent=1))
    return 0
