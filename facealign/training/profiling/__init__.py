"""Face profiling: large-pose training faces made from labelled 68-point faces with the 3D face model.

The recipe behind 300W-LP (Zhu et al., "Face alignment across large poses: a 3D solution", CVPR 2016), on our own
ICT-FaceKit fit (facealign.face3d): fit the model to a face's 68 points, turn the head in 3D, draw the face with
its own photo texture through the fitted mesh, move the background and hair by a smooth 2D warp, and carry the
points into the new view in two conventions (3D: every point where it is; 2D: the jaw on the visible outline, as
300-W labels it). docs/profiling.md.

    from facealign.training.profiling.render import Profiler
    prof = Profiler()
    src = prof.prepare(image, points68)            # the fit and the corrected mesh of one labelled face
    view = prof.render(image, src, yaw=70, pitch=10)   # View: image, points2d, points3d, pose

It lives in training/ (numpy + OpenCV, no torch) because it stands on the face3d stage, which the data layer may
not import; the generated sets are read back by the data layer (facealign.data.profiled).
"""
