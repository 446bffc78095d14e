"""Errors reach Python as lace.Error with Lace's own text, never a crash."""

import threading
import time

import numpy as np
import pytest
from conftest import random_tensor

import lace


def test_a_bad_pattern_raises_with_its_diagnostic():
    text = "pattern broken() {\n  mask = causal & locl(before = 4);\n}\n"
    with pytest.raises(lace.Error) as caught:
        lace.Pattern.from_string(text, name="broken.lace")
    message = str(caught.value)
    assert "broken.lace:2:" in message
    assert "locl" in message
    assert "^" in message  # the caret under the column


def test_a_missing_file_raises(tmp_path):
    with pytest.raises((lace.Error, OSError)):
        lace.Pattern.from_file(tmp_path / "absent.lace")
    with pytest.raises(lace.Error, match="no library pattern 'nonesuch'"):
        lace.Pattern.library("nonesuch")


def test_a_bad_parameter_raises_with_its_diagnostic():
    pattern = lace.Pattern.library("sliding_window", window="wide")
    with pytest.raises(lace.Error, match=r"sliding_window.lace:\d+:\d+: error: value 'wide' "
                                         r"for parameter 'window' is not a valid int"):
        pattern.plan(128)
    with pytest.raises(lace.Error, match="unknown parameter 'no_such_param'"):
        lace.Pattern.library("causal", no_such_param=1).plan(128)


def test_bad_shapes_and_types_raise(emulator):
    kernel = emulator.load(lace.Pattern.library("causal").plan(64, head_dim=64))
    rng = np.random.default_rng(0)
    q, k, v = (random_tensor(rng, (1, 64, 1, 64)) for _ in range(3))
    with pytest.raises(lace.Error, match="q holds float32; expected float16"):
        kernel.forward(q.astype(np.float32), k, v)
    with pytest.raises(lace.Error, match="k"):
        kernel.forward(q, random_tensor(rng, (1, 64, 1, 32)), v)
    with pytest.raises(lace.Error, match="3 dimensions"):
        kernel.forward(q, k, v, out=np.zeros((64, 1, 64), np.float16))
    with pytest.raises(lace.Error, match="lse has 32 elements; expected 64"):
        kernel.forward(q, k, v, lse=np.zeros(32, np.float32))
    with pytest.raises(ValueError, match="layout 'bsdh'"):
        kernel.forward(q, k, v, layout="bsdh")
    with pytest.raises(lace.Error, match="softmax scale"):
        kernel.forward(q, k, v, scale=float("nan"))
    with pytest.raises(TypeError, match="DLPack"):
        kernel.forward([1, 2], k, v, out=q)


def test_backward_needs_its_kernels(emulator):
    kernel = emulator.load(lace.Pattern.library("causal").plan(64, head_dim=64))
    rng = np.random.default_rng(0)
    q, k, v = (random_tensor(rng, (1, 64, 1, 64)) for _ in range(3))
    out, lse = kernel.forward(q, k, v, return_lse=True)
    with pytest.raises(lace.Error, match="backward"):
        kernel.backward(q, k, v, out, lse, q)


def test_segment_patterns_need_ids(emulator):
    kernel = emulator.load(lace.Pattern.library("document").plan(64, head_dim=64))
    rng = np.random.default_rng(0)
    q, k, v = (random_tensor(rng, (1, 64, 1, 64)) for _ in range(3))
    with pytest.raises(lace.Error, match="segment"):
        kernel.forward(q, k, v)
    with pytest.raises(lace.Error):
        kernel.documents([0] * 10)  # 10 ids for 64 tokens


def test_the_gil_is_released_while_a_kernel_compiles(tmp_path):
    """Another Python thread keeps running while load() compiles: with the
    GIL held it could not take a single step."""
    runtime = lace.Runtime("emulator", cache_dir=tmp_path)  # empty: compiles
    plan = lace.Pattern.library("sliding_window", window=17).plan(96, head_dim=64)
    steps = 0
    stop = threading.Event()

    def count():
        nonlocal steps
        while not stop.is_set():
            steps += 1

    counter = threading.Thread(target=count)
    counter.start()
    time.sleep(0.05)
    before = steps
    start = time.monotonic()
    kernel = runtime.load(plan, backward=True)
    seconds = time.monotonic() - start
    during = steps - before
    stop.set()
    counter.join()
    assert not kernel.from_cache and seconds > 0.2
    # Python's switch interval (5 ms) lets the counter run for most of the
    # compile: far more than the handful of steps a held GIL would allow.
    assert during > 1000, f"{during} steps in {seconds:.2f} s"
