"""lace.torch: the autograd path against float64 references (PyTorch's own
autograd through a dense masked softmax, and Lace's analytic reference)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="Debian's python3-torch is not installed")
import lace  # noqa: E402
import lace.torch  # noqa: E402
from conftest import TOLERANCE, relative_error  # noqa: E402


def dense_attention(q, k, v, mask, scale, heads_first):
    """float64 attention by PyTorch's autograd; [b, h, s, d] inside."""
    if not heads_first:
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))
    group = q.shape[1] // k.shape[1]
    k = k.repeat_interleave(group, dim=1)
    v = v.repeat_interleave(group, dim=1)
    scores = (q @ k.transpose(-1, -2)) * scale
    scores = scores.masked_fill(~mask, float("-inf"))
    probs = torch.softmax(scores, dim=-1).nan_to_num(0.0)  # rows without a key
    out = probs @ v
    return out if heads_first else out.transpose(1, 2)


def leaves(shape, dtype, seed):
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=generator, dtype=torch.float64) * 4 - 2).to(dtype)


@pytest.mark.parametrize("layout", ["bshd", "bhsd"])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_gradients_match_pytorch_autograd_in_float64(layout, dtype):
    """Longformer with GQA: 4 query heads over 2 key heads."""
    b, s, h, kvh, d = 2, 96, 4, 2, 32
    heads_first = layout == "bhsd"

    def shape(heads):
        return (b, heads, s, d) if heads_first else (b, s, heads, d)

    q, k, v = leaves(shape(h), dtype, 1), leaves(shape(kvh), dtype, 2), leaves(shape(kvh), dtype, 3)
    dout = leaves(shape(h), dtype, 4) / 2
    params = {"window": 24, "globals": 2, "max_dilation": 2}
    mine = [t.clone().requires_grad_() for t in (q, k, v)]
    out = lace.torch.attention(*mine, "longformer", layout=layout, **params)
    assert out.dtype == dtype and out.shape == q.shape
    out.backward(dout)

    mask = torch.from_numpy(lace.Pattern.library("longformer", **params).mask(s, heads=h))
    ref = [t.double().requires_grad_() for t in (q, k, v)]
    ref_out = dense_attention(*ref, mask, d ** -0.5, heads_first)
    ref_out.backward(dout.double())
    tolerance = TOLERANCE if dtype == torch.float16 else 4 * TOLERANCE  # bf16: 8 mantissa bits
    assert relative_error(out.detach().double(), ref_out.detach()) < tolerance
    for got, want in zip(mine, ref):
        assert got.grad.shape == want.grad.shape
        assert relative_error(got.grad.double(), want.grad) < tolerance


def test_score_modifiers_match_the_analytic_reference():
    """softcap's derivative goes through the kernel's backward."""
    q, k, v = (leaves((1, 80, 2, 64), torch.float16, seed) for seed in (5, 6, 7))
    dout = leaves((1, 80, 2, 64), torch.float16, 8) / 2
    mine = [t.clone().requires_grad_() for t in (q, k, v)]
    out, lse = lace.torch.attention(*mine, "softcap_causal", cap=3.0, scale=0.2, return_lse=True)
    out.backward(dout)
    pattern = lace.Pattern.library("softcap_causal", cap=3.0)
    ref_out, ref_lse = pattern.reference(q.numpy(), k.numpy(), v.numpy(), scale=0.2)
    ref_grads = pattern.reference_backward(q.numpy(), k.numpy(), v.numpy(), dout.numpy(),
                                           scale=0.2)
    assert relative_error(out.detach().numpy(), ref_out) < TOLERANCE
    assert np.max(np.abs(lse.numpy() - ref_lse)) < 1e-3
    assert not lse.requires_grad
    for got, want in zip(mine, ref_grads):
        assert relative_error(got.grad.numpy(), want) < TOLERANCE


@pytest.mark.parametrize("how", ["segment_ids", "cu_seqlens"])
def test_packed_documents_through_autograd(how):
    lengths = [30, 50, 1, 47]
    ids = torch.repeat_interleave(torch.arange(4), torch.tensor(lengths))
    cu = torch.tensor([0, 30, 80, 81, 128])
    q, k, v = (leaves((1, 128, 2, 64), torch.float16, seed) for seed in (9, 10, 11))
    dout = leaves((1, 128, 2, 64), torch.float16, 12) / 2
    mine = [t.clone().requires_grad_() for t in (q, k, v)]
    ids_argument = {"segment_ids": ids} if how == "segment_ids" else {"cu_seqlens": cu}
    out = lace.torch.attention(*mine, "document", **ids_argument)
    out.backward(dout)
    mask = torch.from_numpy(lace.Pattern.library("document").mask(128, heads=2,
                                                                  segment_ids=ids.numpy()))
    ref = [t.double().requires_grad_() for t in (q, k, v)]
    dense_attention(*ref, mask, 64 ** -0.5, False).backward(dout.double())
    for got, want in zip(mine, ref):
        assert relative_error(got.grad.double(), want.grad) < TOLERANCE


def test_views_of_a_fused_projection():
    """q, k and v sliced out of one [b, s, 3, h, d] qkv tensor."""
    qkv = leaves((1, 64, 3, 2, 64), torch.float16, 13)
    mine = qkv.clone().requires_grad_()
    out = lace.torch.attention(*mine.unbind(dim=2), "causal")
    dout = leaves(out.shape, torch.float16, 18) / 2
    out.backward(dout)
    ref = qkv.double().requires_grad_()
    mask = torch.from_numpy(lace.Pattern.library("causal").mask(64, heads=2))
    ref_out = dense_attention(*ref.unbind(dim=2), mask, 64 ** -0.5, False)
    ref_out.backward(dout.double())
    assert relative_error(out.detach().double(), ref_out.detach()) < TOLERANCE
    assert relative_error(mine.grad.double(), ref.grad) < TOLERANCE


def test_without_gradients_only_the_forward_is_loaded():
    q, k, v = (leaves((1, 48, 1, 64), torch.float16, seed) for seed in (19, 20, 21))
    with torch.no_grad():
        out = lace.torch.attention(q, k, v, "sliding_window", window=9)
    assert not out.requires_grad
    mask = torch.from_numpy(lace.Pattern.library("sliding_window", window=9).mask(48))
    ref = dense_attention(q.double(), k.double(), v.double(), mask, 64 ** -0.5, False)
    assert relative_error(out.double(), ref) < TOLERANCE


def test_operators_are_registered():
    q, k, v = (leaves((1, 64, 1, 64), torch.float16, seed) for seed in (14, 15, 16))
    expected = lace.torch.attention(q, k, v, "causal")
    config = lace.torch._register(lace.Pattern.library("causal"),
                                  {"block_m": 0, "block_n": 0, "warps": 0, "stages": 0})
    out, lse = torch.ops.lace.forward(q, k, v, None, None, config, 0.0, False, False, False)
    assert torch.equal(out, expected)
    assert lse.shape == (1, 1, 64)


def test_errors_are_python_exceptions():
    q = leaves((1, 64, 1, 64), torch.float16, 17)
    with pytest.raises(TypeError, match="float16 or bfloat16"):
        lace.torch.attention(q.float(), q, q, "causal")
    with pytest.raises(ValueError, match="4-d"):
        lace.torch.attention(q[0], q, q, "causal")
    with pytest.raises(lace.Error, match="no library pattern"):
        lace.torch.attention(q, q, q, "causl")
    with pytest.raises(lace.Error, match="segment"):
        lace.torch.attention(q, q, q, "document")
    with pytest.raises(lace.Error, match=r"\.lace:\d+:\d+: error: unknown parameter 'size'"):
        lace.torch.attention(q, q, q, "sliding_window", size=3)
