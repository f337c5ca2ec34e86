"""The same contract for every registered model (as timm runs the same tests over its registry)."""
import numpy as np
import pytest

from facealign.runtime import registry
from facealign.runtime.session import create_session

SPECS = registry.list_models()


def _dummy_input(spec, sess):
    inp = sess.get_inputs()[0]
    shape = [d if isinstance(d, int) else None for d in inp.shape]
    rng = np.random.default_rng(0)
    if spec.kind == "landmarks":
        return {inp.name: rng.integers(0, 255, (2, spec.input_size, spec.input_size, 3), dtype=np.uint8)}
    if spec.kind == "detector":
        return {inp.name: rng.integers(0, 255, (1, 96, 128, 3), dtype=np.uint8)}
    # other kinds: fill dynamic dims with small sizes
    dims = [s if s is not None else 2 for s in shape]
    dtype = np.uint8 if "uint8" in inp.type else np.float32
    return {inp.name: rng.random(dims).astype(dtype) if dtype == np.float32 else rng.integers(0, 255, dims, dtype=dtype)}


def test_registry_is_not_empty_and_names_are_unique():
    assert SPECS
    assert len({s.name for s in SPECS}) == len(SPECS)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_model_file_is_shipped_and_small(spec):
    assert spec.path.is_file(), f"registered model {spec.name} has no file {spec.path}"
    assert spec.path.stat().st_size < 5 * 1024 * 1024


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_model_runs_and_is_deterministic(spec):
    sess = create_session(spec.path, threads=1)
    feed = _dummy_input(spec, sess)
    a = sess.run(None, feed)
    b = sess.run(None, feed)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert all(np.isfinite(x).all() for x in a if x.dtype.kind == "f")
    if spec.kind == "landmarks":
        names = [o.name for o in sess.get_outputs()]
        out = dict(zip(names, a))
        assert out["landmarks"].shape == (2, 68, 2)
        assert out["scores"].shape == (2, 68)
