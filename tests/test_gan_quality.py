"""Judging generated punks: palette snapping, the Fréchet distance, memorisation, neighbours."""

import numpy as np
import pytest

from punks_core.gan_quality import (
    differing_pixels,
    frechet_distance,
    memorisation,
    nearest_real,
    snap_to_palette,
    to_uint8,
    to_unit_range,
)
from punks_core.imaging import punk_palette


def test_unit_range_round_trip(punks):
    np.testing.assert_array_equal(to_uint8(to_unit_range(punks.images[:50])), punks.images[:50])


def test_snapping_keeps_punks_and_pulls_noise_back(punks):
    images = punks.images[:200]
    np.testing.assert_array_equal(snap_to_palette(images), images)
    noisy = np.clip(
        images.astype(int) + np.random.default_rng(0).integers(-2, 3, images.shape), 0, 255
    )
    snapped = snap_to_palette(noisy.astype(np.uint8))
    palette = {tuple(c) for c in punk_palette()}
    assert {tuple(c) for c in snapped.reshape(-1, 4)} <= palette
    assert (snapped == images).all(axis=-1).mean() > 0.99


def test_frechet_distance_matches_the_closed_form():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((20_000, 3))
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    # Two Gaussians with diagonal covariances: |mu_a - mu_b|^2 + sum (sigma_a - sigma_b)^2.
    b = rng.standard_normal((20_000, 3)) * [1, 2, 3] + [1, 0, 2]
    expected = (1 + 0 + 4) + (0 + 1 + 4)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.05)


def test_real_punks_are_their_own_nearest_and_count_as_copies(punks):
    reals = punks.images[:500]
    np.testing.assert_array_equal(nearest_real(reals[:50], reals), np.arange(50))
    assert memorisation(reals[:50], reals) == {"copies": 1.0, "nearest_pixels": 0.0}


def test_noise_is_no_copy(punks):
    noise = np.random.default_rng(1).integers(0, 256, (20, 24, 24, 4), dtype=np.uint8)
    result = memorisation(noise, punks.images[:500])
    assert result["copies"] == 0.0 and result["nearest_pixels"] > 100


def test_differing_pixels_counts_whole_pixels(punks):
    a = punks.images[:2].copy()
    b = a.copy()
    b[0, 5, 5] = [1, 2, 3, 255]
    b[1, 0, :3, 3] = 17
    np.testing.assert_array_equal(differing_pixels(a, b), [1, 3])


def test_in_palette_tells_punk_colours_from_near_misses(punks):
    from punks_core.gan_quality import in_palette

    assert in_palette(punks.images[:50]).all()
    near = punks.images[:2].copy()
    near[0, 5, 5] = (near[0, 5, 5].astype(int) + [1, 0, 0, 0]).clip(0, 255)
    near[1, 0, 0] = (0, 0, 0, 100)  # transparent black at an alpha no punk uses
    found = in_palette(near)
    assert not found[0, 5, 5] and not found[1, 0, 0] and found.sum() == 2 * 576 - 2
