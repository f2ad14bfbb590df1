"""Tests for srgan.inference.tiling: where tiles go, how their weights sum, how large they are."""

from __future__ import annotations

import numpy as np
import pytest

from srgan.inference import tiling


@pytest.mark.parametrize("size, tile, pad, border", [
    (37, 8, 3, 0), (37, 8, 3, 5), (64, 32, 8, 0), (5, 16, 4, 2), (100, 7, 0, 0)])
def test_cores_cover_the_axis_once_and_windows_hold_their_context(size, tile, pad, border):
    spans = tiling.spans(size, tile, pad, border)
    assert [c for s in spans for c in range(*s.core)] == list(range(size))
    lengths = {s.core[1] - s.core[0] for s in spans}
    assert max(lengths) <= tile and max(lengths) - min(lengths) <= 1
    assert len({s.window[1] - s.window[0] for s in spans}) == 1  # tiles batch together
    for (c0, c1), (w0, w1) in spans:
        assert -border <= w0 and w1 <= size + border
        assert w0 <= max(c0 - pad, -border) and w1 >= min(c1 + pad, size + border)


@pytest.mark.parametrize("blend", [0, 2, 5])
def test_weights_sum_to_one_and_ramp_at_seams_only(blend):
    size, scale = 37, 4
    spans = tiling.spans(size, 8, 3)
    total = np.zeros(size * scale)
    for span in spans:
        w0, w1 = span.window
        total[w0 * scale:w1 * scale] += tiling.weights(span, size, blend, scale)
    np.testing.assert_allclose(total, 1, atol=1e-6)
    first = tiling.weights(spans[0], size, blend, scale)
    assert first[0] == 1  # no ramp at the image edge
    ramp = (first > 0) & (first < 1)
    assert ramp.sum() == blend * scale


def test_usable_blend_fits_cores_and_pads():
    spans = tiling.spans(37, 8, 3)
    assert tiling.usable_blend(spans, 100, 3) == 6
    assert tiling.usable_blend(spans, 100, 10) == 7  # the shortest core: 37 = 3 x 7 + 2 x 8


def test_tile_for_memory_grows_with_the_budget_and_stays_in_bounds():
    small = tiling.tile_for_memory(64 << 20, (3000, 4000), 12_000, 4, 16)
    large = tiling.tile_for_memory(1 << 30, (3000, 4000), 12_000, 4, 16)
    assert 32 <= small < large < 4000
    assert tiling.tile_for_memory(1 << 30, (3000, 4000), 12_000, 4, 16, batch=4) < large
    assert tiling.tile_for_memory(1 << 40, (60, 50), 12_000, 4, 16) == 60  # whole image
    assert tiling.tile_for_memory(1, (3000, 4000), 12_000, 4, 16) == 32


def test_default_max_memory_is_positive_and_bounded():
    assert 0 < tiling.default_max_memory() <= 1 << 30
