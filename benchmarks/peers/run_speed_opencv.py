"""OpenCV Haar cascade speed runner (run inside the opencv peer environment, opencv-python-headless 4.x): detection only.

haarcascade_frontalface_default.xml from cv2.data.haarcascades, grey conversion timed, detectMultiScale with
scaleFactor 1.1, minNeighbors 5, minSize 24 px (the usual tutorial settings). See speed_common.py for the protocol.
"""
from __future__ import annotations

import cv2

import speed_common as sc


def main() -> None:
    args = sc.parse_args(("detect",))
    sc.pin(args.threads)
    cv2.setNumThreads(args.threads)
    images = {p.name: cv2.imread(str(p), cv2.IMREAD_COLOR) for p in sc.photos(args.photos)}
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")

    def pipeline(img):
        grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        return len(cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24)))

    sc.emit("opencv-haar", cv2.__version__, args, sc.measure(images, pipeline, args.runs, args.warmup, args.max_seconds),
            note="Haar frontal face cascade")


if __name__ == "__main__":
    main()
