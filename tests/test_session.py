"""The shared onnxruntime thread pool: sized once per process, then used by every session (run in a fresh process)."""
import subprocess
import sys
import textwrap

from facealign.runtime import registry

SCRIPT = textwrap.dedent("""
    import onnxruntime as ort
    from facealign.runtime import session
    assert session.enable_shared_pool(1) is None and session.shared_pool_size() is None  # one thread: no pool
    assert session.enable_shared_pool(2) == 2 and session.enable_shared_pool(3) == 2     # the first size stays
    s = session.create_session({path!r}, threads=1)        # on the pool whatever count is asked
    assert s.get_session_options().use_per_session_threads is False
    try:                                                   # the documented catch: pools of their own are refused
        ort.InferenceSession({path!r}, providers=["CPUExecutionProvider"])
        print("own pool accepted")
    except Exception:
        print("own pool refused")
    o = ort.SessionOptions()
    o.use_per_session_threads = False
    ort.InferenceSession({path!r}, o, providers=["CPUExecutionProvider"])
    print("ok")
""")


def test_shared_pool_in_a_fresh_process():
    path = str(registry.get("stfan-lmk-112").path)
    r = subprocess.run([sys.executable, "-c", SCRIPT.format(path=path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.strip().splitlines()  # onnxruntime also prints its refusal to stdout
    assert "own pool refused" in lines and lines[-1] == "ok"


def test_sessions_without_the_pool_get_their_thread_count():
    code = textwrap.dedent(f"""
        from facealign.runtime import session
        s = session.create_session({str(registry.get("ssdlite-det").path)!r}, threads=1)
        o = s.get_session_options()
        print(o.use_per_session_threads, o.intra_op_num_threads)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.split() == ["True", "1"], r.stderr[-2000:]
