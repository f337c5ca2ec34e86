"""`facealign eval body`: PCK@0.2 / PCKh@0.5 per joint of the body network, MediaPipe Pose beside it.

    facealign eval body --set lsp_val --set buffy_val --mediapipe --out out/eval_body
"""
from __future__ import annotations

import argparse
import sys


def add_parser(subparsers) -> None:
    from facealign.data.body import BODY_SETS
    from facealign.evaluation.body_peers import ENV_VAR

    p = subparsers.add_parser(
        "body",
        help="PCK@0.2 / PCKh@0.5 per joint of the body network (and MediaPipe Pose) on labelled body sets.",
        description="Score the body keypoint network on labelled sets under the data root: PCK@0.2 (torso "
        "diameter), PCKh@0.5, per joint; photos without a found person count as misses (docs/body.md).",
    )
    p.add_argument("--set", dest="sets", action="append", choices=sorted(BODY_SETS), metavar="NAME",
                   help=f"a body set (repeatable; default lsp_val): {', '.join(BODY_SETS)}")
    p.add_argument("--body-model", metavar="NAME", help="a registered body model or an .onnx file (default: the shipped one)")
    p.add_argument("--person", choices=["photo", "auto"], default="photo",
                   help="person boxes: photo = the whole photo (default); auto = below each detected face, else the photo")
    p.add_argument("--mediapipe", action="store_true", help="also run MediaPipe Pose 0.10.14 (full) in its own environment")
    p.add_argument("--mediapipe-env", metavar="DIR",
                   help=f"MediaPipe Pose virtual environment (default: ${ENV_VAR}, else mediapipe-pose in the peer environments folder)")
    p.add_argument("--mapping", choices=["fitted", "rule"], default="fitted", help="MediaPipe's neck / head top (docs/body.md)")
    p.add_argument("--out", metavar="DIR", help="write metrics.json, predictions and ced_body.png here")
    p.add_argument("--limit", type=int, default=0, metavar="N", help="only the first N people of each set")
    p.add_argument("--tta", action="store_true", help="our network also on the mirrored crop, averaged (2x its time)")
    p.add_argument("--passes", type=int, default=None, metavar="N",
                   help="body network passes per person: the first on the person box, each further one on the box "
                   "of the joints found (default 3, stopping early; 1 = no refinement)")
    p.add_argument("--window", type=int, default=None, metavar="CELLS",
                   help="decode each joint within this many heatmap cells of its peak (default 3; 0 = the whole map)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from facealign.evaluation.body_eval import BodyEvalOptions, evaluate_body, format_table

    try:
        opts = BodyEvalOptions(sets=args.sets or ["lsp_val"], model=args.body_model, person=args.person,
                               mediapipe=args.mediapipe, mediapipe_env=args.mediapipe_env, mapping=args.mapping,
                               out=args.out, limit=args.limit, tta=args.tta).check()
        if args.passes is not None:
            opts.passes = args.passes
        if args.window is not None:
            opts.window = args.window
        opts.check()
        results = evaluate_body(opts, progress=not args.quiet)
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        sys.stderr.write(f"facealign: error: {e}\n")
        return 2
    print(format_table(results))
    return 0
