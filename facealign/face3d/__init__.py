"""3D face: the compact ICT-FaceKit morphable model, fitting to 68 landmarks, head pose, cameras, mesh export.

    from facealign.face3d import Face3DFitter, fit_face, pose_from_rotation
    fitter = Face3DFitter()                                  # loads facealign/models/face3d_ict.npz once
    fit = fitter.fit(landmarks68, (w, h), camera="perspective")   # facealign.types.Fit3D
    pose = pose_from_rotation(fit.rotation)                  # yaw, pitch, roll (degrees), see face3d.pose
    vertices, triangles = fitter.mesh(fit)                   # image x, y, depth (pixels)

Modules: model (load the shipped model), fit (the Gauss-Newton fitter), camera (weak/perspective projection),
pose (rotation <-> angles, the sign convention), contour (jaw outline correspondence), mesh_io (OBJ/PLY),
draw (mesh and axes overlays). Documentation: docs/face3d.md.
"""
from facealign.face3d.fit import Face3DFitter, FitOptions, fit_face
from facealign.face3d.pose import pose_from_rotation

__all__ = ["Face3DFitter", "FitOptions", "fit_face", "pose_from_rotation"]
