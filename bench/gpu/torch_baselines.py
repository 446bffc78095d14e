#!/usr/bin/env python3
"""PyTorch side of the device check (bench/gpu/check.sh).

1. Correctness against PyTorch: for every case lace-gpu-check dumped (bf16,
   head dim 128), rebuild the pattern's mask (and score modifier) in PyTorch,
   compute attention with SDPA and an explicit mask (or in float32 for the
   score-modified ones SDPA cannot express) on the same inputs, and compare
   Lace's output with it; then Lace's dQ, dK, dV with float32 autograd
   through the same masked attention for the dumped upstream gradient.
2. Timings: for every row of lace_timing.csv, time dense SDPA (FlashAttention
   backend) and FlexAttention with the same pattern as a mask_mod, forward
   and backward (CUDA events after warm-up, median over repeats), and
   create_block_mask.
3. Print the merged table last; write torch_*.csv and summary.txt to --out.

Only the standard library and torch; every case is guarded so that one
failure (or the time budget) does not lose the rest.
"""
import argparse
import csv
import math
import os
import statistics
import sys
import time


def parse_params(text):
    params = {}
    for item in filter(None, text.split(";")):
        name, value = item.split("=", 1)
        params[name] = value
    return params


def integer(params, name):
    return int(params[name])


# ---- The library patterns as mask_mod / score_mod (docs/language.md) -----
# Integer division and remainder are floor operations in .lace, as in
# torch's floor_divide / remainder for the non-negative values used here.


def mask_mod_for(pattern, params, heads):
    p = params
    if pattern == "dense":
        return lambda b, h, q, k: q >= 0
    if pattern in ("causal_attention", "alibi_causal", "softcap_causal"):
        return lambda b, h, q, k: k <= q
    if pattern in ("causal_window", "sliding_window"):
        w = integer(p, "window")
        return lambda b, h, q, k: (k <= q) & (q - k <= w - 1)
    if pattern == "sliding_window_bidirectional":
        half = integer(p, "window") // 2
        return lambda b, h, q, k: (q - k <= half) & (k - q <= half)
    if pattern == "leading_globals":
        n = integer(p, "count")
        return lambda b, h, q, k: (q < n) | (k < n)
    if pattern == "global_sliding_window":
        half, n = integer(p, "window") // 2, integer(p, "globals")
        return lambda b, h, q, k: ((q - k <= half) & (k - q <= half)) | (q < n) | (k < n)
    if pattern == "dilated_sliding_window":
        if p.get("per_head", "false") not in ("false", "0"):
            return None
        w, m = integer(p, "window"), integer(p, "dilation")
        return lambda b, h, q, k: ((q - k) % m == 0) & ((q - k) // m <= w) & ((q - k) // m >= -w)
    if pattern == "longformer":
        if integer(p, "max_dilation") != 1:
            return None
        half, n = integer(p, "window") // 2, integer(p, "globals")
        return lambda b, h, q, k: ((q - k <= half) & (k - q <= half)) | (q < n) | (k < n)
    if pattern == "prefix_lm":
        n = integer(p, "prefix_length")
        return lambda b, h, q, k: (k < n) | (k <= q)
    if pattern == "sparse_transformer_strided":
        s = integer(p, "stride")
        return lambda b, h, q, k: (k <= q) & ((q - k < s) | ((q - k) % s == 0))
    if pattern == "sparse_transformer_fixed":
        s, c = integer(p, "stride"), integer(p, "summary")
        return lambda b, h, q, k: (k <= q) & ((k // s == q // s) | (k % s >= s - c))
    return None  # bigbird's counter-based random blocks have no port here


def score_mod_for(pattern, params, heads):
    import torch

    if pattern == "alibi_causal":
        slopes = torch.tensor([float(2.0 ** (-8.0 * (h + 1) / heads)) for h in range(heads)],
                              dtype=torch.float32, device="cuda")
        return lambda s, b, h, q, k: s - slopes[h] * (q - k).to(torch.float32)
    if pattern == "softcap_causal":
        cap = float(params["cap"])
        return lambda s, b, h, q, k: cap * torch.tanh(s / cap)
    return None


# ---- Timing ----------------------------------------------------------------


def cuda_time(fn, warmup=3, repeats=20):
    import torch

    for _ in range(warmup):
        fn()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(repeats):
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def load_dumped(dump, name, shape, count):
    import torch

    with open(os.path.join(dump, name), "rb") as f:
        raw = f.read()
    t = torch.frombuffer(bytearray(raw), dtype=torch.int16)[:count].view(torch.bfloat16)
    return t.reshape(shape).to("cuda")


def masked_attention_fp32(q, k, v, mask, score_mod, scale, bi, hi, qi, ki):
    """[b, h, s, d] float32 attention whose rows without a live key are 0,
    with finite gradients everywhere (no NaN from an all -inf softmax)."""
    import torch

    s = (q @ k.transpose(-1, -2)) * scale
    if score_mod is not None:
        s = score_mod(s, bi, hi, qi, ki)
    s = s.masked_fill(~mask, float("-inf"))
    m = s.amax(dim=-1, keepdim=True)
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m)).detach()
    e = torch.exp(s - m) * mask
    p = e / e.sum(dim=-1, keepdim=True).clamp_min(1e-30)
    return p @ v


def gradient_errors(dump, name, shapes, mask, score_mod, scale, index, group):
    """Lace's dumped dQ, dK, dV against float32 autograd on the same inputs
    and upstream gradient; None when the case has no gradients dumped."""
    import torch

    if not os.path.exists(os.path.join(dump, name + ".dq.bin")):
        return None
    (b, sq, h, d), (_, sk, kvh, _) = shapes
    count_q, count_k = b * sq * h * d, b * sk * kvh * d
    q, k, v = (load_dumped(dump, name + x, shape, n).float().requires_grad_()
               for x, shape, n in ((".q.bin", shapes[0], count_q),
                                   (".k.bin", shapes[1], count_k),
                                   (".v.bin", shapes[1], count_k)))
    dout = load_dumped(dump, name + ".do.bin", shapes[0], count_q).float()
    qt, kt, vt = (x.transpose(1, 2) for x in (q, k, v))
    kt = kt.repeat_interleave(group, dim=1)
    vt = vt.repeat_interleave(group, dim=1)
    out = masked_attention_fp32(qt, kt, vt, mask, score_mod, scale, *index)
    out.transpose(1, 2).backward(dout)
    errors = []
    for x, suffix, shape, n in ((q, ".dq.bin", shapes[0], count_q), (k, ".dk.bin", shapes[1], count_k),
                                (v, ".dv.bin", shapes[1], count_k)):
        lace = load_dumped(dump, name + suffix, shape, n).float()
        errors.append(((lace - x.grad).norm() / x.grad.norm().clamp_min(1e-30)).item())
    return errors


def correctness(dump, writer, rows):
    import torch
    import torch.nn.functional as F

    manifest = os.path.join(dump, "manifest.csv")
    if not os.path.exists(manifest):
        return
    for case in csv.DictReader(open(manifest)):
        name, pattern = case["name"], case["pattern"]
        b, h, kvh = int(case["batch"]), int(case["heads"]), int(case["kv_heads"])
        sq, sk, d = int(case["seq_q"]), int(case["seq_k"]), int(case["head_dim"])
        params = parse_params(case["params"])
        mask_mod = mask_mod_for(pattern, params, h)
        status, err, against = "", float("nan"), ""
        try:
            if mask_mod is None:
                status = "n/a (no PyTorch mask for this pattern)"
            else:
                q = load_dumped(dump, name + ".q.bin", (b, sq, h, d), b * sq * h * d)
                k = load_dumped(dump, name + ".k.bin", (b, sk, kvh, d), b * sk * kvh * d)
                v = load_dumped(dump, name + ".v.bin", (b, sk, kvh, d), b * sk * kvh * d)
                o = load_dumped(dump, name + ".o.bin", (b, sq, h, d), b * sq * h * d)
                q, k, v = (x.transpose(1, 2) for x in (q, k, v))
                k = k.repeat_interleave(h // kvh, dim=1)
                v = v.repeat_interleave(h // kvh, dim=1)
                qi = torch.arange(sq, device="cuda").view(1, 1, sq, 1)
                ki = torch.arange(sk, device="cuda").view(1, 1, 1, sk)
                hi = torch.arange(h, device="cuda").view(1, h, 1, 1)
                bi = torch.zeros(1, 1, 1, 1, dtype=torch.long, device="cuda")
                mask = mask_mod(bi, hi, qi, ki).expand(b, h, sq, sk)
                score_mod = score_mod_for(pattern, params, h)
                scale = 1.0 / math.sqrt(d)
                if score_mod is None:
                    against = "SDPA + mask"
                    # A row with no live key is NaN in SDPA and 0 in Lace.
                    ref = F.scaled_dot_product_attention(
                        q, k, v, attn_mask=mask, scale=scale).nan_to_num(0.0)
                else:
                    against = "torch fp32"
                    s = (q.float() @ k.float().transpose(-1, -2)) * scale
                    s = score_mod(s, bi, hi, qi, ki)
                    s = s.masked_fill(~mask, float("-inf"))
                    ref = torch.softmax(s, dim=-1).nan_to_num(0.0) @ v.float()
                ref = ref.float().transpose(1, 2)
                err = ((o.float() - ref).norm() / ref.norm()).item()
                status = "ok" if err < 1e-2 else "FAILED"
                grads = gradient_errors(dump, name, ((b, sq, h, d), (b, sk, kvh, d)), mask, score_mod,
                                        scale, (bi, hi, qi, ki), h // kvh)
                if grads is not None:
                    against += " + autograd"
                    if max(grads) >= 1e-2:
                        status = "FAILED"
                    status += " (dq %.1e, dk %.1e, dv %.1e)" % tuple(grads)
        except Exception as e:  # keep going: one case must not stop the check
            status = "error: " + str(e).splitlines()[0][:80]
        writer.writerow([name, pattern, against, err, status])
        rows.append((name, against, err, status))


def timings(timing_csv, writer, rows, budget_end):
    import torch
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel

    try:
        from torch.nn.attention.flex_attention import create_block_mask, flex_attention
        flex = torch.compile(flex_attention, dynamic=False)
    except Exception as e:
        flex, create_block_mask = None, None
        print("FlexAttention unavailable:", e)
    for case in csv.DictReader(open(timing_csv)):
        pattern = case["pattern"]
        b, h, s, d = (int(case[x]) for x in ("batch", "heads", "seq_q", "head_dim"))
        lace_ms = float(case["lace_ms"])
        params = parse_params(case["params"])
        row = {"pattern": pattern, "seq": s, "shape": f"{b}x{h}x{s}", "density": float(case["density"]),
               "lace_ms": lace_ms, "tflops": float(case["tflops_computed"]),
               "layout_ms": float(case["layout_ms"]), "sdpa_ms": float("nan"),
               "flex_ms": float("nan"), "block_mask_ms": float("nan"), "note": "",
               "lace_bwd_ms": float(case.get("lace_bwd_ms", "nan") or "nan"),
               "sdpa_bwd_ms": float("nan"), "flex_bwd_ms": float("nan")}
        try:
            q, k, v = (torch.randn(b, h, s, d, device="cuda", dtype=torch.bfloat16, requires_grad=True)
                       for _ in range(3))
            dout = torch.randn(b, h, s, d, device="cuda", dtype=torch.bfloat16)

            def backward_time(out):
                return cuda_time(lambda: torch.autograd.grad(out, (q, k, v), dout, retain_graph=True))

            with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                row["sdpa_ms"] = cuda_time(lambda: F.scaled_dot_product_attention(q, k, v))
                row["sdpa_bwd_ms"] = backward_time(F.scaled_dot_product_attention(q, k, v))
            mask_mod = mask_mod_for(pattern, params, h)
            if mask_mod is None:
                row["note"] = "no FlexAttention mask_mod"
            elif flex is None:
                row["note"] = "no FlexAttention"
            elif time.time() > budget_end:
                row["note"] = "FlexAttention skipped (time budget)"
            else:
                def build():
                    try:
                        return create_block_mask(mask_mod, None, None, s, s, device="cuda", _compile=True)
                    except TypeError:
                        return create_block_mask(mask_mod, None, None, s, s, device="cuda")
                block_mask = build()
                torch.cuda.synchronize()
                t = []
                for _ in range(3):
                    start = time.perf_counter()
                    block_mask = build()
                    torch.cuda.synchronize()
                    t.append((time.perf_counter() - start) * 1e3)
                row["block_mask_ms"] = statistics.median(t)
                row["flex_ms"] = cuda_time(lambda: flex(q, k, v, block_mask=block_mask))
                if time.time() < budget_end:
                    row["flex_bwd_ms"] = backward_time(flex(q, k, v, block_mask=block_mask))
            del q, k, v, dout
            torch.cuda.empty_cache()
        except Exception as e:
            row["note"] = "error: " + str(e).splitlines()[0][:80]
        writer.writerow([row[x] for x in ("pattern", "shape", "density", "lace_ms", "tflops", "sdpa_ms",
                                          "flex_ms", "block_mask_ms", "layout_ms", "lace_bwd_ms",
                                          "sdpa_bwd_ms", "flex_bwd_ms", "note")])
        rows.append(row)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--dump", required=True, help="lace-gpu-check --dump directory")
    parser.add_argument("--budget", type=float, default=240.0,
                        help="seconds after which FlexAttention cases are skipped")
    args = parser.parse_args()
    start = time.time()
    try:
        import torch
        if not torch.cuda.is_available():
            raise RuntimeError("no CUDA device")
    except Exception as e:
        print("torch_baselines: skipped (%s)" % e)
        return 0
    print("torch %s on %s" % (torch.__version__, torch.cuda.get_device_name()))

    correctness_rows, timing_rows = [], []
    with open(os.path.join(args.out, "torch_correctness.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case", "pattern", "against", "rel_error", "status"])
        correctness(args.dump, w, correctness_rows)
    timing_csv = os.path.join(args.out, "lace_timing.csv")
    if os.path.exists(timing_csv):
        with open(os.path.join(args.out, "torch_timing.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["pattern", "shape", "density", "lace_ms", "lace_tflops_computed", "sdpa_dense_ms",
                        "flex_ms", "create_block_mask_ms", "lace_layout_ms", "lace_bwd_ms",
                        "sdpa_dense_bwd_ms", "flex_bwd_ms", "note"])
            timings(timing_csv, w, timing_rows, start + args.budget)

    lines = ["", "Lace vs PyTorch on the same inputs (bf16, head dim 128):"]
    for name, against, err, status in correctness_rows:
        lines.append("  %-36s %-23s %9.2e  %s" % (name, against, err, status))
    lines += ["", "%-28s %-12s %7s %9s %8s %9s %7s %9s %7s %9s %9s" % (
        "pattern", "shape", "density", "lace ms", "TFLOP/s", "sdpa ms", "x sdpa", "flex ms", "x flex",
        "bmask ms", "layout ms")]
    for r in timing_rows:
        ratio = lambda base: base / r["lace_ms"] if r["lace_ms"] > 0 else float("nan")
        lines.append("%-28s %-12s %6.1f%% %9.3f %8.1f %9.3f %7.2f %9.3f %7.2f %9.2f %9.2f  %s" % (
            r["pattern"], r["shape"], 100 * r["density"], r["lace_ms"], r["tflops"], r["sdpa_ms"],
            ratio(r["sdpa_ms"]), r["flex_ms"], ratio(r["flex_ms"]), r["block_mask_ms"], r["layout_ms"],
            r["note"]))
    lines.append("(layout ms: Lace's layout pipeline on the machine that made the bundles; bmask ms: "
                 "create_block_mask on this GPU)")
    lines += ["", "%-28s %-12s %9s %9s %7s %9s %7s" % (
        "backward", "shape", "lace ms", "sdpa ms", "x sdpa", "flex ms", "x flex")]
    for r in timing_rows:
        ratio = lambda base: base / r["lace_bwd_ms"] if r["lace_bwd_ms"] > 0 else float("nan")
        lines.append("%-28s %-12s %9.3f %9.3f %7.2f %9.3f %7.2f" % (
            r["pattern"], r["shape"], r["lace_bwd_ms"], r["sdpa_bwd_ms"], ratio(r["sdpa_bwd_ms"]),
            r["flex_bwd_ms"], ratio(r["flex_bwd_ms"])))
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(args.out, "summary.txt"), "w") as f:
        f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
