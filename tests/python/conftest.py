"""Shared helpers of the Python package's tests (run by ctest with
PYTHONPATH at the build tree's package and LACE_CACHE_DIR in the build)."""

import numpy as np
import pytest

import lace

# The kernels compute in 16-bit inputs with float32 accumulation; the C++
# end-to-end tests use the same bound on the relative (Frobenius) error.
TOLERANCE = 1e-2


def relative_error(actual, expected):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    return np.linalg.norm(actual - expected) / max(np.linalg.norm(expected), 1e-30)


def lse_error(actual, expected):
    """Largest difference over rows with a live key; rows without one must
    be -inf in both."""
    actual = np.asarray(actual, dtype=np.float64)
    live = np.isfinite(expected)
    assert np.array_equal(np.isfinite(actual), live), "rows without a live key differ"
    return float(np.max(np.abs(actual[live] - expected[live]), initial=0.0))


def random_tensor(rng, shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape).astype(np.float16)


@pytest.fixture(scope="session")
def emulator():
    return lace.runtime("cpu")
