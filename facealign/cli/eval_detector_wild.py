"""`facealign eval detector-wild`: face detection on real photos against reference boxes, peers side by side.

    facealign eval detector-wild [--megapixels 12] [--peers yunet,mediapipe,hog,haar] [--out DIR]

Recall by IoU >= 0.4 and by the convention-free centre rule, per face-size bin, unmatched boxes per photo and time,
on the photos of reference_boxes.json and on the same photos enlarged to about --megapixels MP. Rows: "facealign"
(what `facealign align` keeps: detector + landmark check), "facealign detector" (boxes before the check), and each
peer. One picture per photo, method and set in --out (found faces green, missed red, unmatched boxes yellow).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from facealign import paths


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("detector-wild", help="Detector recall on real photos (reference boxes), with peers.",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-root", type=Path, default=None, help="data folder (default: facealign.paths.data_root())")
    p.add_argument("--megapixels", type=float, default=12.0, help="also the photos enlarged to this size (0: no)")
    p.add_argument("--peers", default="", help="comma list of yunet, mediapipe, hog, haar, or 'all'")
    p.add_argument("--peer-envs", type=Path, default=None,
                   help="folder of the peers' virtual environments (default: $FACEALIGN_PEER_ENVS, else peer-envs under the cache folder)")
    p.add_argument("--photos", default="", help="comma list of photo names (default: all reference photos)")
    p.add_argument("--det-size", type=int, default=None, help="detector working size (default: the detector's)")
    p.add_argument("--det-threshold", type=float, default=None)
    p.add_argument("--model", default=None, help="detector: a registered name or an ONNX file")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", type=Path, default=Path("detector_wild"), help="pictures, metrics.json, table.md")
    p.add_argument("--no-pictures", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from facealign.evaluation import detector_wild as dw
    from facealign.evaluation.detector_wild_peers import PEERS, run_peer
    from facealign.pipeline import FaceAligner
    from facealign.runtime.session import enable_shared_pool

    enable_shared_pool(args.threads)
    data_root = args.data_root or paths.data_root()
    if not (data_root / dw.REFERENCE_FILE).is_file():
        raise SystemExit(f"eval detector-wild: {data_root / dw.REFERENCE_FILE}: not found")
    peers = list(PEERS) if args.peers == "all" else [s for s in args.peers.split(",") if s]
    unknown = [s for s in peers if s not in PEERS]
    if unknown:
        raise SystemExit(f"eval detector-wild: unknown peers {unknown}: one of {', '.join(PEERS)}")
    names = [s for s in args.photos.split(",") if s] or None
    envs = args.peer_envs or paths.peer_envs_dir()
    fa = FaceAligner(args.model, det_size=args.det_size, det_threshold=args.det_threshold, threads=args.threads)

    def ours(img):
        faces = fa.detect(img)  # the detector's own boxes (box would be the tight box of the 68 points)
        return [f.found_box for f in faces], [f.score for f in faces]

    def detector_only(img):
        faces = fa.detector.detect(img)
        return [f.box for f in faces], [f.score for f in faces]

    sets = {"wild": None} | ({f"enlarged {args.megapixels:g} MP": args.megapixels} if args.megapixels else {})
    summaries: dict[str, dict] = {}
    for set_name, mp in sets.items():
        jobs = dw.photo_jobs(data_root, mp, names)
        tag = set_name.split()[0]
        for row, fn in (("facealign", ours), ("facealign detector", detector_only)):
            pics = None if args.no_pictures else args.out / tag / row.replace(" ", "_")
            summaries[f"{row} | {set_name}"] = dw.summarise(dw.evaluate_photos(fn, jobs, pics))
            print(f"{row} | {set_name}: done", flush=True)
        for peer in peers:
            try:
                res = dw.peer_results(run_peer(peer, jobs, envs), jobs)
            except (OSError, RuntimeError, ValueError) as e:
                print(f"{peer} | {set_name}: skipped: {e}", flush=True)
                continue
            if not args.no_pictures:
                dw.redraw(res, jobs, args.out / tag / peer)
            summaries[f"{peer} | {set_name}"] = dw.summarise(res)
            print(f"{peer} | {set_name}: done", flush=True)
    table = dw.format_table(summaries)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "metrics.json").write_text(json.dumps(summaries, indent=1))
    (args.out / "table.md").write_text(table + "\n")
    return 0
