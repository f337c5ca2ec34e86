"""dlib speed runner (run inside the dlib peer environment, benchmarks/peers/setup_peers.sh): see speed_common.py for the protocol.

mode "full": HOG frontal face detector (one upsampling, as face_recognition uses it: finds faces from ~40 px) +
the 68-point shape predictor of face-recognition-models per face + dlib.get_face_chips (112 px). mode "detect": the
HOG detector only. dlib's HOG detector is single-threaded.
"""
from __future__ import annotations

import dlib
import face_recognition_models as frm

import speed_common as sc


def main() -> None:
    args = sc.parse_args(("full", "detect"))
    sc.pin(args.threads)
    images = {p.name: dlib.load_rgb_image(str(p)) for p in sc.photos(args.photos)}
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(frm.pose_predictor_model_location())
    upsample = 1

    def full(img):
        boxes = detector(img, upsample)
        shapes = dlib.full_object_detections()
        for b in boxes:
            shapes.append(predictor(img, b))
        if len(shapes):
            dlib.get_face_chips(img, shapes, size=112)
        return len(boxes)

    def detect(img):
        return len(detector(img, upsample))

    sc.emit("dlib", dlib.__version__, args, sc.measure(images, full if args.mode == "full" else detect, args.runs, args.warmup, args.max_seconds),
            note=f"HOG (upsample {upsample}) + 68-point predictor + face chips" if args.mode == "full" else f"HOG (upsample {upsample})")


if __name__ == "__main__":
    main()
