"""A plain FaceAligner() turns on the shared onnxruntime pool by default, safely (facealign.runtime.session.
use_shared_pool); each case runs in a fresh process, since onnxruntime's global pool is once per process."""
import os
import subprocess
import sys
import textwrap

from facealign.runtime import registry

LMK = str(registry.get("stfan-lmk-112").path)

# a generated 640x480 image with the bundled photo's face in it: the detector and the landmark network both run
PRELUDE = textwrap.dedent("""
    import cv2, numpy as np, onnxruntime as ort
    from facealign.samples import sample_path
    from facealign.runtime import session
    photo = cv2.imread(str(sample_path()))
    image = np.full((480, 640, 3), 127, np.uint8)
    image[:384, 100:484] = cv2.resize(photo, (384, 384), interpolation=cv2.INTER_AREA)

    def own_session(**options):
        o = ort.SessionOptions()
        for k, v in options.items():
            setattr(o, k, v)
        return ort.InferenceSession({lmk!r}, o, providers=["CPUExecutionProvider"])
""").format(lmk=LMK)


def run(body: str, env: dict | None = None) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k != "FACEALIGN_SHARED_POOL"}
    e.update({"FACEALIGN_THREADS": "2", **(env or {})})
    code = PRELUDE + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=e)


def lines(r: subprocess.CompletedProcess) -> list[str]:
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    return r.stdout.strip().splitlines()


def test_plain_face_aligner_enables_the_pool():
    r = run("""
        from facealign import FaceAligner
        fa = FaceAligner()
        faces = fa.detect(image)
        print(len(faces), session.shared_pool_size())
        print(fa.detector.session.get_session_options().use_per_session_threads)
    """)
    out = lines(r)
    assert out[0].split()[1] == "2" and int(out[0].split()[0]) >= 1
    assert out[1] == "False"
    assert "WARNING" not in r.stderr.upper()


def test_own_session_first_falls_back_with_one_warning():
    r = run("""
        mine = own_session()                                # the user's model, made before facealign's
        from facealign.pipeline import FaceAligner
        fa, fb = FaceAligner(), FaceAligner()
        n = len(fa.detect(image)); m = len(fb.detect(image))
        print(n, m, session.shared_pool_size(), fa.detector.session.get_session_options().use_per_session_threads)
        later = own_session()                               # and the user's later sessions still work
        print("later ok")
    """)
    out = lines(r)
    n, m, size, per_session = out[0].split()
    assert int(n) >= 1 and n == m and size == "None" and per_session == "True"
    assert out[-1] == "later ok"
    assert r.stderr.count("sessions made by other code") == 1, r.stderr


def test_own_session_after_face_aligner_is_refused_as_documented():
    """The documented catch: onnxruntime refuses a default session made after the pool is on; the fixes work."""
    r = run("""
        from facealign.pipeline import FaceAligner
        fa = FaceAligner()
        n = len(fa.detect(image))
        try:
            own_session()
            print("accepted")
        except RuntimeError as e:
            print("refused", session.REFUSAL in str(e))
        shared = own_session(use_per_session_threads=False)  # fix 1: the user's session joins the pool
        print(n, len(fa.detect(image)), "fix ok")
    """)
    out = lines(r)
    assert "refused True" in out and out[-1].endswith("fix ok")
    n, n2, *_ = out[-1].split()
    assert int(n) >= 1 and n == n2


def test_opt_out_keeps_per_session_threads_and_user_sessions_work():
    body = """
        from facealign.pipeline import FaceAligner
        fa = FaceAligner({arg})
        n = len(fa.detect(image))
        o = fa.detector.session.get_session_options()
        own_session()                                       # fix 2: without the pool, later sessions are fine
        print(n, session.shared_pool_size(), o.use_per_session_threads, o.intra_op_num_threads)
    """
    for arg, env in (("shared_pool=False", None), ("", {"FACEALIGN_SHARED_POOL": "0"})):
        out = lines(run(body.format(arg=arg), env))
        n, size, per_session, threads = out[-1].split()
        assert int(n) >= 1 and size == "None" and per_session == "True" and threads == "2", (arg, out)


def test_a_global_pool_made_by_other_code_is_joined():
    # before facealign (then it is kept, not replaced), and between facealign's two lazy model loads
    r = run("""
        ort.set_global_thread_pool_sizes(3, 1)
        from facealign.pipeline import FaceAligner
        fa = FaceAligner()
        print(len(fa.detect(image)), session.shared_pool_size(), session.global_pool_in_use())
    """)
    n, size, in_use = lines(r)[-1].split()
    assert int(n) >= 1 and size == "None" and in_use == "True"
    r = run("""
        from facealign.pipeline import FaceAligner
        fa = FaceAligner(shared_pool=False)
        fa.detector                                        # a session with its own pool
        ort.set_global_thread_pool_sizes(2, 1)             # other code makes the global pool
        print(len(fa.detect(image)), session.global_pool_in_use())  # the landmark model joins it
    """)
    n, in_use = lines(r)[-1].split()
    assert int(n) >= 1 and in_use == "True"


def test_commands_path_and_one_thread_unchanged():
    r = run("""
        from facealign.pipeline import AlignerOptions, build_aligner, FaceAligner
        fa = FaceAligner(threads=1)                        # one thread: no pool, as before
        n = len(fa.detect(image))
        print(n, session.shared_pool_size())
        fb = build_aligner(AlignerOptions())               # the commands' factory still enables it
        print(len(fb.detect(image)), session.shared_pool_size())
    """)
    out = lines(r)
    assert out[0].split()[1] == "None" and out[1].split()[1] == "2"
