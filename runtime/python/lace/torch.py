"""lace.torch: Lace attention as a differentiable PyTorch operation.

    import lace.torch
    out = lace.torch.attention(q, k, v, "longformer", window=64, globals=2)
    out.sum().backward()

q is [batch, seq, heads, dim] ('bshd', Lace's layout) or, with
layout='bhsd', [batch, heads, seq, dim] (FlexAttention's and SDPA's). The
layout argument says which (it cannot be told from the shape); the kernel
then reads the tensors through their strides, with no copy when the strides
suit it. k and v may have fewer heads (GQA/MQA). CPU tensors run on the
emulator, CUDA tensors on their device.

The kernels are registered as the custom operators torch.ops.lace.forward
and torch.ops.lace.backward: with torch >= 2.4 through
torch.library.custom_op with fake (meta) implementations, which is what
torch.compile needs to treat them as opaque operators; with older torch
(Debian bookworm's 1.13, which has no torch.compile) through
torch.library.Library. Only the second is exercised by the tests here.
"""

import collections
import os
import threading
from typing import Optional, Tuple

import torch

import lace

__all__ = ["attention"]

_configs = {}
_configs_lock = threading.Lock()


class _Config:
    """What a call fixes besides its tensors: the pattern and plan options.
    Operators take strings, so calls name their config by a key."""

    def __init__(self, pattern, options):
        self.pattern = pattern
        self.options = options

    def kernel(self, q, k, heads_first, backward):
        b, s, h, d = _dims(q, heads_first)
        _, sk, kvh, _ = _dims(k, heads_first)
        device = "cpu" if q.device.type == "cpu" else f"cuda:{q.device.index or 0}"
        return lace.kernel_for(
            self.pattern, batch=b, heads=h, kv_heads=kvh, seq_q=s, seq_k=sk, head_dim=d,
            dtype=str(q.dtype).replace("torch.", ""), device=device, backward=backward,
            **self.options)


_config_names = {}


def _register(pattern, options):
    """The name operators take for (pattern, options): a short string, looked
    up by the key's tuple (its strings hash once) rather than spelled from
    the pattern's text on every call."""
    key = (pattern.key, tuple(sorted(options.items())))
    with _configs_lock:
        name = _config_names.get(key)
        if name is None:
            name = f"lace-config-{len(_config_names)}"
            _config_names[key] = name
            _configs[name] = _Config(pattern, options)
    return name


def _dims(t, heads_first):
    b, x, y, d = t.shape
    return (b, y, x, d) if heads_first else (b, x, y, d)


def _kernel_ready(t):
    """`t` itself when the kernel can read it in place (last dimension
    contiguous, other strides multiples of 8 elements, 16-byte aligned),
    else a contiguous copy."""
    if (t.stride(-1) == 1 and all(s % 8 == 0 for s in t.stride()[:-1])
            and t.data_ptr() % 16 == 0):
        return t
    return t.contiguous()


_documents_cache = collections.OrderedDict()
_documents_lock = threading.Lock()
_DOCUMENTS_KEPT = 16


def _documents(kernel, q_ids, k_ids, varlen):
    """The exact layout of these ids for `kernel`, built once: every layer's
    forward and backward of one batch share it (most recently used kept)."""
    if q_ids is None:
        return None
    q = tuple(q_ids.tolist())
    k = tuple(k_ids.tolist()) if k_ids is not None else None
    key = (id(kernel), varlen, q, k)
    with _documents_lock:
        if key in _documents_cache:
            _documents_cache.move_to_end(key)
            return _documents_cache[key][1]
    ids = (list(q), list(k)) if k is not None else list(q)  # a tuple means (q, k)
    if varlen:
        documents = kernel.documents(cu_seqlens=ids)
    else:
        documents = kernel.documents(ids)
    with _documents_lock:
        # The kernel is kept with its documents so that id(kernel) stays its.
        _documents_cache[key] = (kernel, documents)
        while len(_documents_cache) > _DOCUMENTS_KEPT:
            _documents_cache.popitem(last=False)
    return documents


def _forward(q, k, v, q_ids, k_ids, config, scale, heads_first, varlen, backward):
    entry = _configs[config]
    kernel = entry.kernel(q, k, heads_first, backward)
    b, s, h, _ = _dims(q, heads_first)
    out = torch.empty_like(q, memory_format=torch.contiguous_format)
    lse = torch.empty((b, h, s), dtype=torch.float32, device=q.device)
    kernel.forward(q, k, v, out, lse, scale=scale, layout="bhsd" if heads_first else "bshd",
                   documents=_documents(kernel, q_ids, k_ids, varlen))
    return out, lse


def _backward(q, k, v, out, lse, dout, q_ids, k_ids, config, scale, heads_first, varlen):
    entry = _configs[config]
    kernel = entry.kernel(q, k, heads_first, True)
    dq = torch.empty_like(q, memory_format=torch.contiguous_format)
    dk = torch.empty_like(k, memory_format=torch.contiguous_format)
    dv = torch.empty_like(v, memory_format=torch.contiguous_format)
    kernel.backward(q, k, v, out, lse, _kernel_ready(dout), dq, dk, dv, scale=scale,
                    layout="bhsd" if heads_first else "bshd",
                    documents=_documents(kernel, q_ids, k_ids, varlen))
    return dq, dk, dv


_FORWARD_SCHEMA = ("forward(Tensor q, Tensor k, Tensor v, Tensor? q_ids, Tensor? k_ids, "
                   "str config, float scale, bool heads_first, bool varlen, bool backward) "
                   "-> (Tensor, Tensor)")
_BACKWARD_SCHEMA = ("backward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, "
                    "Tensor dout, Tensor? q_ids, Tensor? k_ids, str config, float scale, "
                    "bool heads_first, bool varlen) -> (Tensor, Tensor, Tensor)")


def _register_operators():
    """torch.ops.lace.forward / backward: custom_op (torch >= 2.4, with fake
    implementations for torch.compile) or a torch.library.Library."""
    if hasattr(torch.library, "custom_op"):  # pragma: no cover - torch >= 2.4 only
        forward = torch.library.custom_op("lace::forward", mutates_args=())(_typed_forward)
        backward = torch.library.custom_op("lace::backward", mutates_args=())(_typed_backward)

        @forward.register_fake
        def _(q, k, v, q_ids, k_ids, config, scale, heads_first, varlen, backward):
            b, s, h, _ = _dims(q, heads_first)
            return (torch.empty_like(q, memory_format=torch.contiguous_format),
                    q.new_empty((b, h, s), dtype=torch.float32))

        @backward.register_fake
        def _(q, k, v, out, lse, dout, q_ids, k_ids, config, scale, heads_first, varlen):
            return (torch.empty_like(q, memory_format=torch.contiguous_format),
                    torch.empty_like(k, memory_format=torch.contiguous_format),
                    torch.empty_like(v, memory_format=torch.contiguous_format))

        return None
    library = torch.library.Library("lace", "DEF")
    library.define(_FORWARD_SCHEMA)
    library.define(_BACKWARD_SCHEMA)
    for dispatch_key in ("CPU", "CUDA"):
        library.impl("forward", _forward, dispatch_key)
        library.impl("backward", _backward, dispatch_key)
    return library  # kept alive: dropping it unregisters the operators


def _typed_forward(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                   q_ids: Optional[torch.Tensor], k_ids: Optional[torch.Tensor], config: str,
                   scale: float, heads_first: bool, varlen: bool,
                   backward: bool) -> Tuple[torch.Tensor, torch.Tensor]:
    return _forward(q, k, v, q_ids, k_ids, config, scale, heads_first, varlen, backward)


def _typed_backward(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, out: torch.Tensor,
                    lse: torch.Tensor, dout: torch.Tensor, q_ids: Optional[torch.Tensor],
                    k_ids: Optional[torch.Tensor], config: str, scale: float, heads_first: bool,
                    varlen: bool) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return _backward(q, k, v, out, lse, dout, q_ids, k_ids, config, scale, heads_first,
                     varlen)


_library = _register_operators()


class _Attention(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v, q_ids, k_ids, config, scale, heads_first, varlen, backward):
        out, lse = torch.ops.lace.forward(q, k, v, q_ids, k_ids, config, scale, heads_first,
                                          varlen, backward)
        ctx.save_for_backward(q, k, v, out, lse, q_ids, k_ids)
        ctx.settings = (config, scale, heads_first, varlen)
        ctx.mark_non_differentiable(lse)
        return out, lse

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, dout, _dlse):
        q, k, v, out, lse, q_ids, k_ids = ctx.saved_tensors
        config, scale, heads_first, varlen = ctx.settings
        dq, dk, dv = torch.ops.lace.backward(q, k, v, out, lse, dout.contiguous(), q_ids, k_ids,
                                             config, scale, heads_first, varlen)
        return dq, dk, dv, None, None, None, None, None, None, None


_patterns = {}
_patterns_lock = threading.Lock()


def _pattern(pattern, params):
    """The lace.Pattern a call names, loaded once per (pattern, parameters)
    and file version rather than parsed on every call."""
    if isinstance(pattern, lace.Pattern) and not params:
        return pattern
    if isinstance(pattern, lace.Pattern):
        key = (pattern.key, tuple(sorted(params.items())))
    else:
        text = str(pattern)
        path = text if text.endswith(".lace") else lace.library_path(text)
        key = (os.path.abspath(path), os.stat(path).st_mtime_ns, tuple(sorted(params.items())))
    with _patterns_lock:
        found = _patterns.get(key)
    if found is None:
        if isinstance(pattern, lace.Pattern):
            found = pattern.with_params(**params)
        else:
            found = lace.Pattern.from_file(path, **params)
        with _patterns_lock:
            found = _patterns.setdefault(key, found)
    return found


def _id_tensor(values, name):
    if values is None:
        return None
    t = values if isinstance(values, torch.Tensor) else torch.as_tensor(values)
    if t.dim() != 1 or t.is_floating_point():
        raise ValueError(f"{name}: expected a 1-d integer sequence")
    return t.detach().to("cpu", torch.int64)


def attention(q, k, v, pattern, *, layout="bshd", scale=None, segment_ids=None,
              cu_seqlens=None, return_lse=False, block_m=0, block_n=0, warps=0, stages=0,
              **params):
    """softmax(scale * q k^T masked by `pattern`) v, differentiable in q, k
    and v.

    pattern: a lace.Pattern, a .lace file's path, or a library pattern's
    name ("longformer"); keyword arguments not named here are the pattern's
    parameters. layout: 'bshd' or 'bhsd' (k, v and the output alike). scale:
    default 1/sqrt(dim). segment_ids (one sequence, or a (q, k) pair) or
    cu_seqlens: the packed documents of patterns that use `segment`.
    return_lse: also return the log-sum-exp [batch, heads, seq_q] (float32,
    not differentiable). Tensors are float16 or bfloat16.
    """
    heads_first = lace._heads_first(layout)
    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, not {type(t).__name__}")
        if t.dim() != 4:
            raise ValueError(f"{name} must be 4-d [batch, {layout[1:3]}, dim], "
                             f"got shape {tuple(t.shape)}")
        if t.dtype not in (torch.float16, torch.bfloat16):
            raise TypeError(f"{name} is {t.dtype}; Lace kernels take float16 or bfloat16")
        if t.dtype != q.dtype or t.device != q.device:
            raise ValueError(f"{name} is {t.dtype} on {t.device}, q is {q.dtype} on {q.device}")
    if segment_ids is not None and cu_seqlens is not None:
        raise ValueError("pass segment_ids or cu_seqlens, not both")
    ids = segment_ids if segment_ids is not None else cu_seqlens
    q_ids, k_ids = ids if isinstance(ids, tuple) else (ids, None)
    options = {"block_m": block_m, "block_n": block_n, "warps": warps, "stages": stages}
    config = _register(_pattern(pattern, params), options)
    needs_grad = torch.is_grad_enabled() and any(t.requires_grad for t in (q, k, v))
    out, lse = _Attention.apply(_kernel_ready(q), _kernel_ready(k), _kernel_ready(v),
                                _id_tensor(q_ids, "segment ids"),
                                _id_tensor(k_ids, "segment ids"), config,
                                float(scale or 0.0), heads_first, cu_seqlens is not None,
                                needs_grad)
    return (out, lse) if return_lse else out
