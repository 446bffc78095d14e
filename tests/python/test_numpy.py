"""numpy arrays through DLPack on the emulator, against the float64
reference (the interpreter's definition of each pattern)."""

import numpy as np
import pytest
from conftest import TOLERANCE, lse_error, random_tensor, relative_error

import lace

# (library pattern, its parameters, heads, kv heads, seq_q, seq_k, head dim)
CASES = [
    ("causal", {}, 2, 2, 200, 200, 64),
    ("sliding_window", {"window": 48}, 2, 1, 256, 256, 64),
    ("longformer", {"window": 32, "globals": 3, "max_dilation": 2}, 4, 2, 160, 160, 32),
    ("bigbird", {}, 2, 2, 256, 256, 64),
    ("softcap_causal", {"cap": 5.0}, 1, 1, 130, 130, 128),
    ("prefix_lm", {}, 2, 2, 96, 200, 64),
]


@pytest.mark.parametrize("name,params,heads,kv_heads,seq_q,seq_k,dim", CASES,
                         ids=[c[0] for c in CASES])
@pytest.mark.parametrize("layout", ["bshd", "bhsd"])
def test_forward_matches_the_reference(emulator, name, params, heads, kv_heads, seq_q, seq_k,
                                       dim, layout):
    pattern = lace.Pattern.library(name, **params)
    plan = pattern.plan(seq_q, seq_k, batch=2, heads=heads, kv_heads=kv_heads, head_dim=dim)
    kernel = emulator.load(plan)
    rng = np.random.default_rng(7)

    def tensor(seq, h):
        shape = (2, h, seq, dim) if layout == "bhsd" else (2, seq, h, dim)
        return random_tensor(rng, shape)

    q, k, v = tensor(seq_q, heads), tensor(seq_k, kv_heads), tensor(seq_k, kv_heads)
    out, lse = kernel.forward(q, k, v, layout=layout, return_lse=True)
    assert out.shape == q.shape and out.dtype == np.float16
    assert lse.shape == (2, heads, seq_q) and lse.dtype == np.float32
    ref_out, ref_lse = pattern.reference(q, k, v, layout=layout)
    assert relative_error(out, ref_out) < TOLERANCE
    assert lse_error(lse, ref_lse) < 1e-3


def test_a_strided_view_is_read(emulator):
    """Every other head of a wider array, passed with its strides."""
    pattern = lace.Pattern.library("causal")
    kernel = emulator.load(pattern.plan(128, heads=2, head_dim=64))
    rng = np.random.default_rng(1)
    wide = [random_tensor(rng, (1, 128, 4, 64)) for _ in range(3)]
    q, k, v = (w[:, :, ::2, :] for w in wide)
    out = kernel.forward(q, k, v)
    ref_out, _ = pattern.reference(np.ascontiguousarray(q), np.ascontiguousarray(k),
                                   np.ascontiguousarray(v))
    assert relative_error(out, ref_out) < TOLERANCE


def small_causal(emulator, seed):
    """The causal pattern's kernel for one head of 64 tokens, and inputs."""
    pattern = lace.Pattern.library("causal")
    kernel = emulator.load(pattern.plan(64, head_dim=64))
    rng = np.random.default_rng(seed)
    return pattern, kernel, [random_tensor(rng, (1, 64, 1, 64)) for _ in range(3)]


def test_scale_is_applied(emulator):
    pattern, kernel, (q, k, v) = small_causal(emulator, 2)
    out = kernel.forward(q, k, v, scale=0.3)
    ref_out, _ = pattern.reference(q, k, v, scale=0.3)
    default_out, _ = pattern.reference(q, k, v)
    assert relative_error(out, ref_out) < TOLERANCE
    assert relative_error(out, default_out) > 10 * TOLERANCE


def test_backward_matches_the_reference(emulator):
    pattern = lace.Pattern.library("longformer", window=32, globals=2)
    plan = pattern.plan(128, batch=1, heads=2, kv_heads=1, head_dim=64)
    kernel = emulator.load(plan, backward=True)
    assert kernel.has_backward
    rng = np.random.default_rng(3)
    q = random_tensor(rng, (1, 128, 2, 64))
    k, v = random_tensor(rng, (1, 128, 1, 64)), random_tensor(rng, (1, 128, 1, 64))
    dout = random_tensor(rng, (1, 128, 2, 64), -1.0, 1.0)
    out, lse = kernel.forward(q, k, v, return_lse=True)
    dq, dk, dv = kernel.backward(q, k, v, out, lse, dout)
    ref = pattern.reference_backward(q, k, v, dout)
    for got, want in zip((dq, dk, dv), ref):
        assert got.shape == want.shape
        assert relative_error(got, want) < TOLERANCE


@pytest.mark.parametrize("how", ["segment_ids", "cu_seqlens"])
def test_packed_documents(emulator, how):
    pattern = lace.Pattern.library("document")
    plan = pattern.plan(300, heads=2, head_dim=64)
    assert plan.uses_segments
    kernel = emulator.load(plan, backward=True)
    lengths = [40, 1, 100, 77, 82]
    ids = np.repeat(np.arange(len(lengths)), lengths)
    cu = np.concatenate([[0], np.cumsum(lengths)])
    rng = np.random.default_rng(4)
    q, k, v = (random_tensor(rng, (1, 300, 2, 64)) for _ in range(3))
    if how == "segment_ids":
        documents = kernel.documents(ids)
    else:
        documents = kernel.documents(cu_seqlens=cu)
    assert 0 < documents.computed_tiles < documents.superset_tiles
    out, lse = kernel.forward(q, k, v, documents=documents, return_lse=True)
    ref_out, ref_lse = pattern.reference(q, k, v, segment_ids=ids)
    assert relative_error(out, ref_out) < TOLERANCE
    assert lse_error(lse, ref_lse) < 1e-3
    dout = random_tensor(rng, q.shape, -1.0, 1.0)
    grads = kernel.backward(q, k, v, out, lse, dout, documents=documents)
    for got, want in zip(grads, pattern.reference_backward(q, k, v, dout, segment_ids=ids)):
        assert relative_error(got, want) < TOLERANCE


def test_query_and_key_ids_can_differ(emulator):
    """A (q_ids, k_ids) pair: queries and keys split into documents
    differently, against the reference with the same pair."""
    pattern = lace.Pattern.library("document")
    kernel = emulator.load(pattern.plan(128, 160, heads=1, head_dim=64))
    q_ids = np.repeat([0, 1, 2], [50, 30, 48])
    k_ids = np.repeat([0, 1, 2], [20, 100, 40])
    rng = np.random.default_rng(6)
    q = random_tensor(rng, (1, 128, 1, 64))
    k, v = random_tensor(rng, (1, 160, 1, 64)), random_tensor(rng, (1, 160, 1, 64))
    out, lse = kernel.forward(q, k, v, segment_ids=(q_ids, k_ids), return_lse=True)
    ref_out, ref_lse = pattern.reference(q, k, v, segment_ids=(q_ids, k_ids))
    assert relative_error(out, ref_out) < TOLERANCE
    assert lse_error(lse, ref_lse) < 1e-3
    same_ids_out, _ = pattern.reference(q, k, v, segment_ids=(q_ids, np.repeat([0, 1, 2],
                                                                              [50, 30, 80])))
    assert relative_error(ref_out, same_ids_out) > 10 * TOLERANCE  # the k ids matter


def test_outputs_can_be_given(emulator):
    _, kernel, (q, k, v) = small_causal(emulator, 5)
    out = np.full_like(q, np.nan)
    lse = np.full((1, 1, 64), np.nan, dtype=np.float32)
    result = kernel.forward(q, k, v, out, lse)
    assert result[0] is out and result[1] is lse
    assert np.isfinite(out).all() and np.isfinite(lse).all()
