"""facealign: face detection, 68 + 5 landmarks, 3D pose and canonical crops on a CPU.

    import facealign
    fa = facealign.FaceAligner()
    faces = fa.detect(image)                      # list[Face]
    crops = fa.align(image, faces, template="arcface112")
"""
from __future__ import annotations

__version__ = "0.1.0"

from facealign.types import AlignedFace, Camera, Face, Fit3D, Pose  # noqa: E402

__all__ = ["AlignedFace", "Camera", "Face", "Fit3D", "Pose", "FaceAligner", "__version__"]


def __getattr__(name: str):
    # FaceAligner pulls in onnxruntime: import it on first use so `import facealign` stays light.
    if name == "FaceAligner":
        from facealign.pipeline import FaceAligner

        return FaceAligner
    raise AttributeError(name)
