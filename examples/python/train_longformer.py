#!/usr/bin/env python3
"""Trains a tiny one-layer transformer with Longformer attention through
lace.torch for a few steps and prints the loss going down.

The task: a random token sequence where every token past the first `lag`
repeats the one `lag` positions back, so a model only learns it by
attending within its window (lag < window / 2). With CPU tensors the kernels
run on Lace's emulator; move the model and the batch to "cuda" for a GPU.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/train_longformer.py
"""

import argparse
import sys
import time

import torch

import lace.torch


class Block(torch.nn.Module):
    def __init__(self, vocab, width, heads, window, globals_):
        super().__init__()
        self.heads = heads
        self.embed = torch.nn.Embedding(vocab, width)
        self.position = torch.nn.Parameter(torch.randn(1, 512, width))
        self.qkv = torch.nn.Linear(width, 3 * width)
        self.project = torch.nn.Linear(width, width)
        self.norm = torch.nn.LayerNorm(width)
        self.head = torch.nn.Linear(width, vocab)
        self.pattern = {"window": window, "globals": globals_}

    def forward(self, tokens):
        batch, seq = tokens.shape
        x = self.embed(tokens) + self.position[:, :seq]
        # [batch, seq, 3, heads, dim]: q, k and v are strided views, which
        # the kernel reads in place (Lace's bshd layout).
        qkv = self.qkv(self.norm(x)).view(batch, seq, 3, self.heads, -1).half()
        q, k, v = qkv.unbind(dim=2)
        attended = lace.torch.attention(q, k, v, "longformer", **self.pattern)
        x = x + self.project(attended.float().reshape(batch, seq, -1))
        return self.head(x)


def batch_of(generator, batch, seq, vocab, lag):
    tokens = torch.randint(vocab, (batch, seq), generator=generator)
    for i in range(lag, seq):
        tokens[:, i] = tokens[:, i - lag]
    return tokens


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 unless the last 5 steps' mean loss is below 60%% of the first 5's")
    args = parser.parse_args()

    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    vocab, lag = 16, 3
    model = Block(vocab, width=64, heads=2, window=16, globals_=1)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    start = time.monotonic()
    for step in range(args.steps):
        tokens = batch_of(generator, args.batch, args.seq + 1, vocab, lag)
        logits = model(tokens[:, :-1])
        # Only positions past the lag are predictable.
        loss = torch.nn.functional.cross_entropy(
            logits[:, lag:].reshape(-1, vocab), tokens[:, lag + 1:].reshape(-1))
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        losses.append(loss.item())
        if step % 5 == 0 or step == args.steps - 1:
            print(f"step {step:3d}  loss {loss.item():.3f}")
    seconds = time.monotonic() - start
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    print(f"{args.steps} steps in {seconds:.1f} s; mean loss of the first 5 steps "
          f"{first:.3f}, of the last 5 {last:.3f}")
    if args.check and not last < 0.6 * first:
        print("the loss did not go down enough", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
