"""What a plan says about itself, checked against the element mask (the
interpreter) and against a breadth-first search of our own."""

import numpy as np
import pytest

import lace


def kinds_from_mask(mask, block_m, block_n):
    """Per tile: 0 empty, 1 partial, 2 full, from the elements."""
    seq_q, seq_k = mask.shape
    rows, cols = -(-seq_q // block_m), -(-seq_k // block_n)
    kinds = np.zeros((rows, cols), dtype=np.uint8)
    for r in range(rows):
        for c in range(cols):
            tile = mask[r * block_m:(r + 1) * block_m, c * block_n:(c + 1) * block_n]
            kinds[r, c] = 2 if tile.all() else 1 if tile.any() else 0
    return kinds


@pytest.mark.parametrize("name,params", [
    ("causal", {}),
    ("longformer", {"window": 40, "globals": 2, "max_dilation": 3}),
    ("bigbird", {}),
    ("sparse_transformer", {}),
    ("prefix_lm", {}),
])
def test_layouts_are_the_exact_classification_of_the_mask(name, params):
    pattern = lace.Pattern.library(name, **params)
    plan = pattern.plan(300, heads=3, head_dim=64)
    tiles = plan.tiles
    mask = pattern.mask(300, heads=3)
    assert mask.shape == (1, 3, 300, 300) and mask.dtype == bool
    assert len(plan.head_to_layout) == 3
    for head in range(3):
        layout = plan.layouts[plan.head_to_layout[head]]
        expected = kinds_from_mask(mask[0, head], tiles["block_m"], tiles["block_n"])
        assert np.array_equal(layout.kinds, expected), f"head {head}"
        counts = layout.tiles
        assert counts["full"] == int((expected == 2).sum())
        assert counts["partial"] == int((expected == 1).sum())
        assert counts["empty"] == int((expected == 0).sum())
        row_ptr, col_idx, is_full = layout.bsr
        assert row_ptr[-1] == len(col_idx) == counts["full"] + counts["partial"]
        for r in range(len(row_ptr) - 1):
            cols = col_idx[row_ptr[r]:row_ptr[r + 1]]
            assert list(cols) == list(np.nonzero(expected[r])[0])
            assert list(is_full[row_ptr[r]:row_ptr[r + 1]]) == [int(expected[r, c] == 2)
                                                                 for c in cols]


def reach_layers(kinds):
    """Least L with every (query block, key block) joined by a path of
    exactly L edges, or None."""
    adjacency = kinds > 0
    n = len(adjacency)
    reach = adjacency.copy()
    seen = set()
    for layers in range(1, 2 * n + 2):
        if reach.all():
            return layers
        key = reach.tobytes()
        if key in seen:
            return None
        seen.add(key)
        reach = (reach.astype(np.int64) @ adjacency.astype(np.int64)) > 0
    return None


@pytest.mark.parametrize("name,params,expected", [
    ("dense", {}, 1),
    ("causal", {}, None),
    ("sliding_window", {"window": 64}, None),
    ("longformer", {"window": 64, "globals": 1}, None),
])
def test_field_of_view(name, params, expected):
    pattern = lace.Pattern.library(name, **params)
    plan = pattern.plan(512, block_m=64, block_n=64)
    layout = plan.layouts[0]
    assert layout.field_of_view == reach_layers(layout.kinds)
    if expected is not None:
        assert layout.field_of_view == expected
    assert pattern.field_of_view(512) == [layout.field_of_view]


def test_a_plan_describes_itself():
    pattern = lace.Pattern.library("sliding_window", window=64)
    plan = pattern.plan(1024, batch=2, heads=4, kv_heads=2, head_dim=128, dtype="bfloat16")
    assert plan.pattern == "sliding_window"
    assert plan.dtype == "bfloat16" and plan.head_dim == 128
    assert plan.shape == {"batch": 2, "heads": 4, "kv_heads": 2, "seq_q": 1024, "seq_k": 1024}
    assert 0 < plan.density < 0.3
    assert plan.computed_flops < plan.dense_flops
    assert plan.layout_seconds >= 0
    assert plan.schedule["ctas"] == 132
    svg = plan.svg()
    assert svg.startswith("<svg") and "heads 0-3" in svg
    source = plan.cuda_source()
    assert "lace_attention_fwd" in source


def test_tiles_can_be_chosen():
    plan = lace.Pattern.library("causal").plan(256, block_m=64, block_n=32, warps=4, stages=3)
    assert plan.tiles == {"block_m": 64, "block_n": 32, "warps": 4, "stages": 3}
    assert plan.grid == (4, 8)
