"""facealign speed runner (run with facealign's own environment): see speed_common.py for the protocol.

mode "full": FaceAligner.detect (SSD-lite detector + 68 landmarks of all faces in one batch) + FaceAligner.align
(one warp per face to the 112x112 arcface crop). mode "detect": the detector only (boxes + 5 points).
"""
from __future__ import annotations

import cv2

import speed_common as sc


def main() -> None:
    args = sc.parse_args(("full", "detect"))
    sc.pin(args.threads)
    cv2.setNumThreads(args.threads)
    import facealign
    from facealign.pipeline import FaceAligner
    from facealign.runtime.session import enable_shared_pool

    # as the facealign commands run it: detector and landmark network on one pool of `threads` threads
    enable_shared_pool(args.threads)
    fa = FaceAligner(args.detector_model or None, (args.landmarks_model or None) if args.mode == "full" else False,
                     threads=args.threads, det_size=args.det_size, tta=not args.no_tta)
    images = {p.name: cv2.imread(str(p), cv2.IMREAD_COLOR) for p in sc.photos(args.photos)}

    def full(img):
        faces = fa.detect(img)
        fa.align(img, faces)
        return len(faces)

    def detect(img):
        return len(fa.detector.detect(img))

    sc.emit("facealign", facealign.__version__, args,
            sc.measure(images, full if args.mode == "full" else detect, args.runs, args.warmup, args.max_seconds),
            note=("SSD-lite + 68 landmarks (batched) + align" if args.mode == "full" else "SSD-lite detector")
            + f", det size {fa.detector.det_size}")


if __name__ == "__main__":
    main()
