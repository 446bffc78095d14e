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
    with pytest.raises(OSError):
        lace.Pattern.from_file(tmp_path / "absent.lace")
    # A missing import is the compiler's to report, at the import.
    (tmp_path / "main.lace").write_text('import "absent.lace";\npattern p() { mask = causal; }\n')
    with pytest.raises(lace.Error, match=r"main.lace:1:\d+: error: .*absent.lace"):
        lace.Pattern.from_file(tmp_path / "main.lace")
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
    with pytest.raises(lace.Error, match=r"k has shape \[1, 64, 1, 32\], the kernel was "
                                         r"planned for \[1, 64, 1, 64\]"):
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
    q.flags.writeable = False
    with pytest.raises(TypeError, match="q: cannot be exported through DLPack"):
        kernel.forward(q, k, v)


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


class Counter:
    """Another Python thread counting while the main one is in Lace: with
    the GIL held it could not take a single step."""

    def __init__(self):
        self.steps = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._count)

    def _count(self):
        while not self._stop.is_set():
            self.steps += 1

    def __enter__(self):
        self._thread.start()
        time.sleep(0.05)
        self.before = self.steps
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self.start
        self.during = self.steps - self.before
        self._stop.set()
        self._thread.join()


def test_the_gil_is_released_while_a_kernel_compiles(tmp_path):
    runtime = lace.Runtime("emulator", cache_dir=tmp_path)  # empty: compiles
    plan = lace.Pattern.library("sliding_window", window=17).plan(96, head_dim=64)
    with Counter() as counter:
        kernel = runtime.load(plan, backward=True)
    assert not kernel.from_cache and counter.seconds > 0.2
    # Python's switch interval (5 ms) lets the counter run for most of the
    # compile: far more than the handful of steps a held GIL would allow.
    assert counter.during > 1000, f"{counter.during} steps in {counter.seconds:.2f} s"


def test_the_gil_is_released_while_a_kernel_runs(emulator):
    kernel = emulator.load(lace.Pattern.library("causal").plan(2048, heads=2, head_dim=64))
    rng = np.random.default_rng(0)
    q, k, v = (random_tensor(rng, (1, 2048, 2, 64)) for _ in range(3))
    kernel.forward(q, k, v)  # warm
    with Counter() as counter:
        kernel.forward(q, k, v)
    assert counter.seconds > 0.1
    assert counter.during > 1000, f"{counter.during} steps in {counter.seconds:.2f} s"


def test_a_dense_mask_too_large_is_refused():
    with pytest.raises(lace.Error, match="more than the dense mask allows"):
        lace.Pattern.library("causal").mask(70000, heads=1)  # 4.9e9 elements
