"""facealign: face detection, 68 + 5 landmarks, 3D pose and canonical crops on a CPU.

    import facealign
    fa = facealign.FaceAligner()
    faces = fa.detect(image)                      # list[Face]
    crops = fa.align(image, faces, template="arcface112")
"""
from __future__ import annotations

__version__ = "0.1.0"

from facealign.types import AlignedFace, Body, Camera, Face, Fit3D, Pose  # noqa: E402

__all__ = ["AlignedFace", "AlignerOptions", "Body", "BodyAligner", "Camera", "Face", "FaceAligner", "Fit3D", "Pose", "build_aligner", "__version__"]

_PIPELINE = ("FaceAligner", "AlignerOptions", "build_aligner")


def __getattr__(name: str):
    # the pipeline pulls in onnxruntime: import it on first use so `import facealign` stays light
    if name in _PIPELINE:
        from facealign import pipeline

        return getattr(pipeline, name)
    if name == "BodyAligner":
        from facealign.body_pipeline import BodyAligner

        return BodyAligner
    raise AttributeError(name)
