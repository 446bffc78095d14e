"""Lace: sparse attention patterns compiled to fused flash-attention kernels.

    import lace
    pattern = lace.Pattern.library("longformer", window=64, globals=2)
    plan = pattern.plan(seq_q=512, heads=4, head_dim=64)
    print(plan.density, plan.layouts[0].tiles, pattern.field_of_view(512))
    kernel = lace.load(plan, device="cpu")          # the emulator on CPU
    out = kernel.forward(q, k, v)                   # any DLPack arrays

The C++ host API does the work (lace._lace is pybind11 over it); this module
adds keyword parameters, output allocation, the [batch, heads, seq, dim]
layout and one kernel per (pattern, shape, device) per process. See
docs/python.md; lace.torch has the autograd function.
"""

import math
import os
import sys
import threading

from . import _lace
from ._config import PATTERNS_DIR
from ._lace import Error

__all__ = [
    "Error",
    "Pattern",
    "Plan",
    "Layout",
    "Runtime",
    "Kernel",
    "Documents",
    "load",
    "runtime",
    "library_path",
    "PATTERNS_DIR",
]

LAYOUTS = ("bshd", "bhsd")


def library_path(name):
    """The file of pattern `name` in Lace's library (patterns/NAME.lace)."""
    path = os.path.join(PATTERNS_DIR, name + ".lace")
    if not os.path.isfile(path):
        known = sorted(f[:-5] for f in os.listdir(PATTERNS_DIR) if f.endswith(".lace"))
        raise Error(f"no library pattern '{name}' (the library has {', '.join(known)})")
    return path


def _param_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise TypeError(f"pattern parameters are int, float, bool or str, not {type(value).__name__}")


def _heads_first(layout):
    if layout not in LAYOUTS:
        raise ValueError(f"layout '{layout}': expected 'bshd' or 'bhsd'")
    return layout == "bhsd"


def _capsule(array, name):
    """A DLPack capsule of `array` (anything with __dlpack__); torch tensors
    are exported detached (the memory is the same)."""
    if _is_torch(array):
        array = array.detach()
    export = getattr(array, "__dlpack__", None)
    if export is None:
        raise TypeError(f"{name}: {type(array).__name__} does not support DLPack (__dlpack__)")
    try:
        return export()
    except BufferError as error:  # numpy: read-only arrays, odd strides
        raise TypeError(f"{name}: cannot be exported through DLPack: {error}") from None


def _dims(array, layout):
    """(batch, seq, heads, head_dim) of a 4-d tensor in `layout`."""
    shape = tuple(array.shape)
    if len(shape) != 4:
        raise ValueError(f"expected a 4-d [batch, {layout[1:3]}, dim] tensor, got shape {shape}")
    b, x, y, d = shape
    return (b, y, x, d) if _heads_first(layout) else (b, x, y, d)


def _is_torch(array):
    return type(array).__module__.startswith("torch")


def _empty(like, shape, dtype=None):
    """An uninitialised array on `like`'s device: numpy or torch."""
    if _is_torch(like):
        import torch

        return torch.empty(shape, dtype=dtype or like.dtype, device=like.device)
    numpy = sys.modules.get("numpy")  # a numpy array means numpy is loaded
    if numpy is not None and isinstance(like, numpy.ndarray):
        return numpy.empty(shape, dtype=dtype or like.dtype)
    raise TypeError(
        f"cannot allocate outputs like a {type(like).__name__}: pass out=, lse= (and dq=, ...)"
    )


def _float32(like):
    if _is_torch(like):
        import torch

        return torch.float32
    import numpy

    return numpy.float32


def _stream(array, stream):
    """The CUDA stream to run on: `stream` if given, torch's current stream
    for a torch CUDA tensor, else the default stream (0)."""
    if stream is not None:
        return int(stream)
    if _is_torch(array) and array.is_cuda:
        import torch

        return torch.cuda.current_stream(array.device).cuda_stream
    return 0


def _ids(values):
    """A list of ints from a list, numpy array or torch tensor (any device)."""
    if values is None:
        return None
    if _is_torch(values):
        values = values.detach().cpu()
    tolist = getattr(values, "tolist", None)
    return [int(v) for v in (tolist() if tolist else values)]


def _pair(values):
    """(q, k) from a pair, or (values, None) for one sequence."""
    if isinstance(values, tuple):
        if len(values) != 2:
            raise ValueError("segment ids / cu_seqlens: pass one sequence or a (q, k) pair")
        return _ids(values[0]), _ids(values[1])
    return _ids(values), None


class Pattern:
    """A .lace file (or text), the pattern selected in it and its parameters."""

    def __init__(self, compiler, source, pattern=None, params=None):
        self._compiler = compiler
        self._source = source  # what identifies the text: path or text itself
        self._params = {}
        # The compiler runs with the GIL released: one call at a time per
        # pattern, so that set()/select() on another thread cannot race it.
        self._lock = threading.RLock()
        if pattern is not None:
            self.select(pattern)
        if params:
            self.set(**params)

    @classmethod
    def from_file(cls, path, pattern=None, **params):
        """Loads and checks `path` (and its imports); a bad file raises
        lace.Error with its file:line:col diagnostics."""
        path = os.fspath(path)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return cls(_lace.Compiler.from_file(path), ("file", os.path.abspath(path), text),
                   pattern, params)

    @classmethod
    def from_string(cls, text, name="<string>", pattern=None, **params):
        """The same for text in memory; `name` is the file diagnostics show."""
        return cls(_lace.Compiler.from_source(name, text), ("text", name, text), pattern, params)

    @classmethod
    def library(cls, name, pattern=None, **params):
        """A pattern of Lace's library by file name: "longformer", "bigbird"..."""
        return cls.from_file(library_path(name), pattern, **params)

    @property
    def names(self):
        """The patterns the file defines, in source order."""
        return self._compiler.patterns()

    @property
    def name(self):
        """The selected pattern (default: the file's first)."""
        return self._compiler.selected

    @property
    def params(self):
        """The parameters set, as the text the compiler reads."""
        return dict(self._params)

    def select(self, name):
        with self._lock:
            self._compiler.select(name)
            for key, value in self._params.items():
                self._compiler.set_param(key, value)
        return self

    def set(self, **params):
        """Sets parameters of the selected pattern (checked when planning)."""
        with self._lock:
            for key, value in params.items():
                self._params[key] = _param_text(value)
                self._compiler.set_param(key, self._params[key])
        return self

    def with_params(self, **params):
        """A copy with these parameters set on top of this one's."""
        copy = Pattern(self._compiler_copy(), self._source, self.name, self._params)
        return copy.set(**params)

    def _compiler_copy(self):
        kind, where, text = self._source
        if kind == "file":
            return _lace.Compiler.from_file(where)
        return _lace.Compiler.from_source(where, text)

    @property
    def key(self):
        """What identifies this pattern for caching: the text, the selected
        pattern and the parameters."""
        return (self._source, self.name, tuple(sorted(self._params.items())))

    def plan(self, seq_q, seq_k=None, *, batch=1, heads=1, kv_heads=None, head_dim=64,
             dtype="float16", block_m=0, block_n=0, warps=0, stages=0, ctas=132,
             split_factor=1.0):
        """Runs the compiler for one shape: the block layout, the schedule and
        the kernel's source. Tile fields left 0 take the head dim's defaults."""
        with self._lock:
            plan = self._compiler.plan(
                batch=batch, heads=heads, kv_heads=kv_heads or 0, seq_q=seq_q,
                seq_k=seq_k or 0, dtype=str(dtype).replace("torch.", ""), head_dim=head_dim,
                block_m=block_m, block_n=block_n, warps=warps, stages=stages, ctas=ctas,
                split_factor=split_factor)
        return Plan(plan)

    def field_of_view(self, seq, *, block=64, heads=1):
        """Per distinct head layout at `block` x `block` tiles: the layers
        until every query block can see every key block (None: never)."""
        plan = self.plan(seq, batch=1, heads=heads, block_m=block, block_n=block)
        return [layout.field_of_view for layout in plan.layouts]

    def mask(self, seq_q, seq_k=None, *, batch=1, heads=1, segment_ids=None):
        """The mask element by element (the interpreter, the definition of
        the pattern): a numpy bool array [batch, heads, seq_q, seq_k]."""
        q_ids, k_ids = _pair(segment_ids) if segment_ids is not None else (None, None)
        with self._lock:
            live = self._compiler.mask(batch, heads, seq_q, seq_k or 0, q_ids, k_ids)
        return live.view(bool)

    def reference(self, q, k, v, *, scale=None, layout="bshd", segment_ids=None):
        """Dense float64 attention on host arrays (float16/bfloat16), masked
        and scored by the interpreter: (out, lse) as numpy float64 arrays, out
        in `layout`, lse [batch, heads, seq_q]. What kernels are checked
        against."""
        first = _heads_first(layout)
        q_ids, k_ids = _pair(segment_ids) if segment_ids is not None else (None, None)
        with self._lock:
            o, lse = self._compiler.reference(
                _capsule(q, "q"), _capsule(k, "k"), _capsule(v, "v"), scale or 0.0, first,
                q_ids, k_ids)
        return (o.transpose(0, 2, 1, 3) if first else o), lse

    def reference_backward(self, q, k, v, dout, *, scale=None, layout="bshd", segment_ids=None):
        """The reference's float64 gradients (dq, dk, dv) for upstream dout."""
        first = _heads_first(layout)
        q_ids, k_ids = _pair(segment_ids) if segment_ids is not None else (None, None)
        with self._lock:
            grads = self._compiler.reference_backward(
                _capsule(q, "q"), _capsule(k, "k"), _capsule(v, "v"), _capsule(dout, "dout"),
                scale or 0.0, first, q_ids, k_ids)
        return tuple(g.transpose(0, 2, 1, 3) for g in grads) if first else grads

    def __repr__(self):
        return f"lace.Pattern({self.name!r}, params={self._params})"


class Layout:
    """One distinct head layout of a plan."""

    def __init__(self, plan, index):
        self._plan = plan
        self.index = index
        self.heads = plan.heads_of(index)  # "0-3,6"

    @property
    def kinds(self):
        """[q-tile rows, k-tile columns] uint8: 0 empty, 1 partial, 2 full."""
        return self._plan.block_kinds(self.index)

    @property
    def bsr(self):
        """FlexAttention's CSR form: (row_ptr, col_idx, is_full) arrays."""
        return self._plan.bsr(self.index)

    @property
    def tiles(self):
        """{'full': n, 'partial': n, 'empty': n}."""
        return self._plan.tile_counts(self.index)

    @property
    def density(self):
        t = self.tiles
        total = t["full"] + t["partial"] + t["empty"]
        return (t["full"] + t["partial"]) / total if total else 0.0

    @property
    def field_of_view(self):
        """Layers until every query block can see every key block (None:
        never); needs a square tile grid (Pattern.field_of_view plans one)."""
        return self._plan.field_of_view(self.index)

    def __repr__(self):
        return f"lace.Layout(heads {self.heads}, {self.tiles})"


class Plan:
    """The compiler's output for one pattern at one shape (plain data)."""

    def __init__(self, plan):
        self._plan = plan

    pattern = property(lambda self: self._plan.pattern)
    dtype = property(lambda self: self._plan.dtype)
    head_dim = property(lambda self: self._plan.head_dim)
    tiles = property(lambda self: self._plan.tiles, doc="block_m, block_n, warps, stages")
    shape = property(lambda self: self._plan.shape, doc="batch, heads, kv_heads, seq_q, seq_k")
    grid = property(lambda self: self._plan.grid, doc="(q-tile rows, k-tile columns)")
    uses_segments = property(lambda self: self._plan.uses_segments)
    layout_seconds = property(lambda self: self._plan.layout_seconds)
    computed_flops = property(lambda self: self._plan.computed_flops)
    dense_flops = property(lambda self: self._plan.dense_flops)
    head_to_layout = property(lambda self: self._plan.head_to_layout)
    schedule = property(lambda self: self._plan.schedule)

    @property
    def density(self):
        """Computed FLOPs over dense attention's (whole tiles, clipped at the
        sequence's end)."""
        return self.computed_flops / self.dense_flops if self.dense_flops else 0.0

    @property
    def layouts(self):
        return [Layout(self._plan, i) for i in range(self._plan.num_layouts)]

    def svg(self, path=None):
        """The layouts as an SVG picture (written to `path` when given)."""
        text = self._plan.svg()
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return text

    def cuda_source(self, backward=False):
        """The generated CUDA C++ of the forward (or backward) kernels."""
        return self._plan.cuda_source(backward)

    def __repr__(self):
        s = self.shape
        return (f"lace.Plan({self.pattern}, b{s['batch']} h{s['heads']} q{s['seq_q']} "
                f"k{s['seq_k']} d{self.head_dim} {self.dtype}, density {self.density:.3f})")


class Documents:
    """The exact layout of one packed batch (Kernel.documents): build it once
    per batch, pass it to every layer's forward and backward."""

    def __init__(self, documents, kernel):
        self._documents = documents
        self._kernel = kernel

    computed_tiles = property(lambda self: self._documents.computed_tiles)
    superset_tiles = property(lambda self: self._documents.superset_tiles)
    build_seconds = property(lambda self: self._documents.build_seconds)
    split_rows = property(lambda self: self._documents.split_rows)
    imbalance = property(lambda self: self._documents.imbalance)


class Kernel:
    """A loaded kernel (and its backward when loaded with backward=True)."""

    def __init__(self, kernel):
        self._kernel = kernel

    plan = property(lambda self: Plan(self._kernel.plan))
    from_cache = property(lambda self: self._kernel.from_cache)
    compile_seconds = property(lambda self: self._kernel.compile_seconds)
    has_backward = property(lambda self: self._kernel.has_backward)
    backend = property(lambda self: self._kernel.backend)
    device = property(lambda self: self._kernel.device)
    backward_workspace_floats = property(lambda self: self._kernel.backward_workspace_floats)

    def documents(self, segment_ids=None, *, cu_seqlens=None):
        """The exact layout of packed documents from per-token segment ids or
        FlashAttention's cu_seqlens (either one sequence, or a (q, k) pair)."""
        if (segment_ids is None) == (cu_seqlens is None):
            raise ValueError("pass exactly one of segment_ids and cu_seqlens")
        if segment_ids is not None:
            q, k = _pair(segment_ids)
            return Documents(self._kernel.documents(q, k or []), self)
        q, k = _pair(cu_seqlens)
        return Documents(self._kernel.varlen(q, k or []), self)

    def _documents_for(self, documents, segment_ids, cu_seqlens):
        if documents is not None:
            return documents._documents
        if segment_ids is None and cu_seqlens is None:
            return None
        return self.documents(segment_ids, cu_seqlens=cu_seqlens)._documents

    def forward(self, q, k, v, out=None, lse=None, *, scale=None, layout="bshd",
                return_lse=False, documents=None, segment_ids=None, cu_seqlens=None,
                stream=None):
        """out = softmax(scale * q k^T masked by the pattern) v, written into
        `out` (allocated like q when None) and, with return_lse or `lse`
        given, the natural-log sum of exponentials [batch, heads, seq_q]
        (float32). Tensors are in `layout` ('bshd' or 'bhsd'), on the
        kernel's device. Returns out, or (out, lse)."""
        first = _heads_first(layout)
        inputs = (_capsule(q, "q"), _capsule(k, "k"), _capsule(v, "v"))
        if out is None:
            out = _empty(q, tuple(q.shape))
        if lse is None and return_lse:
            b, s, h, _ = _dims(q, layout)
            lse = _empty(q, (b, h, s), _float32(q))
        self._kernel.forward(
            *inputs, _capsule(out, "out"),
            None if lse is None else _capsule(lse, "lse"), scale or 0.0, first,
            _stream(q, stream), self._documents_for(documents, segment_ids, cu_seqlens))
        return (out, lse) if lse is not None else out

    def backward(self, q, k, v, out, lse, dout, dq=None, dk=None, dv=None, *, scale=None,
                 layout="bshd", documents=None, segment_ids=None, cu_seqlens=None,
                 stream=None):
        """dq, dk and dv of the forward that wrote `out` and `lse` for the
        upstream gradient dout (deterministic). Returns (dq, dk, dv)."""
        first = _heads_first(layout)
        inputs = (_capsule(q, "q"), _capsule(k, "k"), _capsule(v, "v"), _capsule(out, "out"),
                  _capsule(lse, "lse"), _capsule(dout, "dout"))
        dq = _empty(q, tuple(q.shape)) if dq is None else dq
        dk = _empty(k, tuple(k.shape)) if dk is None else dk
        dv = _empty(v, tuple(v.shape)) if dv is None else dv
        delta = _empty(q, (max(1, self.backward_workspace_floats),), _float32(q))
        if stream is not None and _is_torch(delta) and delta.is_cuda:
            # torch may reuse the workspace once this returns: not before the
            # kernel on `stream` is done with it.
            import torch

            delta.record_stream(torch.cuda.ExternalStream(int(stream), device=delta.device))
        self._kernel.backward(
            *inputs, _capsule(dq, "dq"),
            _capsule(dk, "dk"), _capsule(dv, "dv"), _capsule(delta, "delta"), scale or 0.0,
            first, _stream(q, stream), self._documents_for(documents, segment_ids, cu_seqlens))
        return dq, dk, dv

    def __repr__(self):
        return f"lace.Kernel({self.plan!r} on {self.backend})"


class Runtime:
    """A backend: a CUDA device, or the CPU emulator (which runs the same
    kernel source compiled by the host compiler). Kernels are cached on disk
    ($LACE_CACHE_DIR, or `cache_dir`)."""

    def __init__(self, backend="auto", device=0, *, arch="", cache_dir=None, workers=0):
        self._runtime = _lace.Runtime(backend, device, arch,
                                      None if cache_dir is None else os.fspath(cache_dir),
                                      workers)

    backend = property(lambda self: self._runtime.backend)
    device = property(lambda self: self._runtime.device)
    target = property(lambda self: self._runtime.target)

    def describe(self):
        return self._runtime.describe()

    def load(self, plan, backward=False):
        """Compiles the plan's kernel (or finds it in the cache)."""
        return Kernel(self._runtime.load(plan._plan, backward))


_runtimes = {}
_runtimes_lock = threading.Lock()


def runtime(device="cpu"):
    """The process's runtime for a device: "cpu" (the emulator), "cuda" or
    "cuda:N", or a (kind, index) pair."""
    kind, index = _parse_device(device)
    with _runtimes_lock:
        if (kind, index) not in _runtimes:
            backend = "emulator" if kind == "cpu" else "cuda"
            _runtimes[(kind, index)] = Runtime(backend, index)
        return _runtimes[(kind, index)]


def _parse_device(device):
    if isinstance(device, tuple):
        return device
    text = str(device)
    if text == "cpu":
        return ("cpu", 0)
    if text == "cuda":
        return ("cuda", 0)
    if text.startswith("cuda:") and text[5:].isdigit():
        return ("cuda", int(text[5:]))
    raise ValueError(f"device '{device}': expected 'cpu', 'cuda' or 'cuda:N'")


def load(plan, device="cpu", backward=False):
    """Loads `plan` on the process's runtime for `device`."""
    return runtime(device).load(plan, backward)


_kernels = {}
_kernel_locks = {}
_kernels_lock = threading.Lock()


def kernel_for(pattern, *, batch, heads, kv_heads, seq_q, seq_k, head_dim, dtype, device,
               backward=False, **options):
    """The kernel of `pattern` at this shape on `device`, planned and loaded
    once per process (a kernel loaded with its backward serves both). A
    compile holds up only the callers that wait for the same kernel."""
    key = (pattern.key, batch, heads, kv_heads, seq_q, seq_k, head_dim, str(dtype),
           _parse_device(device), tuple(sorted(options.items())))
    with _kernels_lock:
        kernel = _kernels.get(key)
        if kernel is not None and (kernel.has_backward or not backward):
            return kernel
        lock = _kernel_locks.setdefault(key, threading.Lock())
    with lock:
        kernel = _kernels.get(key)
        if kernel is None or (backward and not kernel.has_backward):
            plan = pattern.plan(seq_q, seq_k, batch=batch, heads=heads, kv_heads=kv_heads,
                                head_dim=head_dim, dtype=dtype, **options)
            kernel = load(plan, device, backward)
            with _kernels_lock:
                _kernels[key] = kernel
        return kernel


def default_scale(head_dim):
    """1 / sqrt(head_dim), what scale=None means."""
    return 1.0 / math.sqrt(head_dim)
