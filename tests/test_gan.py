"""The conditional DCGAN: a train step, generation contracts, snapshots, and the shipped run."""

import json

import keras
import numpy as np
import pytest

from punks_core.classifier import load_classifier
from punks_core.errors import ModelError
from punks_core.gan import (
    ConditionalGAN,
    PunkGenerator,
    build_discriminator,
    build_generator,
    load_generator,
    one_hot,
    train_gan,
    type_weights,
)
from punks_core.gan_quality import to_unit_range
from punks_core.gan_snapshots import (
    GAN_DIR,
    GRID_COLUMNS,
    Snapshots,
    punks_png,
    read_grid,
    write_grid,
)
from punks_core.labels import TYPES


@pytest.fixture(scope="module")
def untrained() -> PunkGenerator:
    keras.utils.set_random_seed(3)
    return PunkGenerator(build_generator())


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, punks):
    out = tmp_path_factory.mktemp("gan")
    run = train_gan(
        epochs=2,
        seed=1,
        out=out,
        punks=punks,
        subset=64,
        classifier=load_classifier(),
        quality_samples=40,
        agreement_per_type=8,
        verbose=0,
    )
    return out, run


def test_train_step_on_a_tiny_batch_moves_both_networks(punks):
    keras.utils.set_random_seed(0)
    gan = ConditionalGAN(build_generator(), build_discriminator(), seed=0)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    before_g = [w.numpy().copy() for w in gan.generator.trainable_weights]
    before_d = [w.numpy().copy() for w in gan.discriminator.trainable_weights]
    images = to_unit_range(punks.images[:16])
    logs = gan.train_on_batch(images, one_hot(punks.types.to_numpy()[:16]), return_dict=True)
    assert set(logs) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(np.isfinite(float(v)) for v in logs.values())
    after_g = gan.generator.trainable_weights
    after_d = gan.discriminator.trainable_weights
    assert any(not np.allclose(b, a.numpy()) for b, a in zip(before_g, after_g, strict=True))
    assert any(not np.allclose(b, a.numpy()) for b, a in zip(before_d, after_d, strict=True))


def test_tempered_sampling_gives_types_square_root_shares(punks):
    types = punks.types.to_numpy()[:9000]
    weights = type_weights(types)
    counts = {t: (types == t).sum() for t in TYPES}
    root_total = sum(np.sqrt(c) for c in counts.values())
    for punk_type, count in counts.items():
        assert weights[types == punk_type].sum() == pytest.approx(np.sqrt(count) / root_total)
    # 9 aliens: ~2 % of draws instead of 0.1 %, but not the 20 % of balanced sampling.
    assert 0.015 < weights[types == "Alien"].sum() < 0.03


def test_generate_is_deterministic_uint8_rgba(untrained):
    first = untrained.generate("Alien", 3, seed=5)
    assert first.shape == (3, 24, 24, 4) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, untrained.generate("Alien", 3, seed=5))
    assert not np.array_equal(first, untrained.generate("Alien", 3, seed=6))
    assert not np.array_equal(first, untrained.generate("Zombie", 3, seed=5))


@pytest.mark.parametrize(
    ("punk_type", "n", "seed", "message"),
    [
        ("Robot", 1, 0, "unknown punk type"),
        ("Male", 0, 0, "number of punks"),
        ("Male", 5000, 0, "number of punks"),
        ("Male", 1, -1, "seed"),
        ("Male", 1, 2**32, "seed"),
        ("Male", 1, 1.5, "whole number"),
    ],
)
def test_generate_refuses_bad_requests(untrained, punk_type, n, seed, message):
    with pytest.raises(ValueError, match=message):
        untrained.generate(punk_type, n, seed)


def test_interpolation_starts_and_ends_at_the_two_punks(untrained):
    path = untrained.interpolate(("Male", 1), ("Female", 2), steps=5)
    assert path.shape == (5, 24, 24, 4)
    start, end = untrained.generate("Male", 1, 1)[0], untrained.generate("Female", 1, 2)[0]
    assert np.abs(path[0].astype(int) - start).max() <= 1
    assert np.abs(path[-1].astype(int) - end).max() <= 1
    with pytest.raises(ValueError, match="steps"):
        untrained.interpolate(("Male", 1), ("Female", 2), steps=1)


def test_grid_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    grid = rng.integers(0, 256, (len(TYPES), GRID_COLUMNS, 24, 24, 4), dtype=np.uint8)
    write_grid(tmp_path, 7, grid)
    np.testing.assert_array_equal(read_grid(tmp_path, 7), grid)


def test_training_writes_snapshots_that_read_back(tiny_run):
    out, run = tiny_run
    snapshots = Snapshots(out)
    assert snapshots.epochs == [1, 2]
    assert snapshots.grid(2).shape == (len(TYPES), GRID_COLUMNS, 24, 24, 4)
    history = snapshots.history
    expected = {"d_loss", "g_loss", "fid", "real_fid", "copies", "nearest_pixels", "seconds"}
    assert expected | {f"agree_{t.lower()}" for t in TYPES} <= set(history.columns)
    assert history["agree_male"].between(0, 1).all() and (history["fid"] >= 0).all()
    assert run["train_ids"][1] < 9000 and run["n_train"] == 64
    assert json.loads((out / "run.json").read_text()) == json.loads(json.dumps(run))
    # The saved generator reproduces the last grid from its fixed noise.
    generator = load_generator(out / "generator.keras")
    again = generator.generate("Female", GRID_COLUMNS, run["grid_seed"])
    assert np.abs(again.astype(int) - snapshots.grid(2)[TYPES.index("Female")]).max() <= 1


def test_timelapse_gif_has_a_frame_per_epoch(tiny_run):
    import io

    from PIL import Image

    gif = Snapshots(tiny_run[0]).timelapse_gif("Ape")
    with Image.open(io.BytesIO(gif)) as image:
        assert image.format == "GIF" and image.n_frames == 2


def test_punks_png_is_a_transparent_upscaled_grid(untrained):
    import io

    from PIL import Image

    with Image.open(io.BytesIO(punks_png(untrained.generate("Ape", 4, 0), columns=2))) as image:
        assert image.mode == "RGBA" and image.size == ((2 * 24 + 1) * 8, (2 * 24 + 1) * 8)


def test_missing_or_corrupt_snapshots_say_how_to_rebuild(tmp_path, tiny_run):
    with pytest.raises(ModelError, match="train-gan --out"):
        Snapshots(tmp_path)
    with pytest.raises(ModelError, match="train-gan --out"):
        load_generator(tmp_path / "generator.keras")
    (tmp_path / "generator.keras").write_bytes(b"not a zip file")
    with pytest.raises(ModelError, match="cannot be loaded"):
        load_generator(tmp_path / "generator.keras")
    (tmp_path / "epoch_001.png").write_bytes(b"broken")
    with pytest.raises(ModelError, match="unreadable"):
        read_grid(tmp_path, 1)


def test_shipped_gan_meets_the_quality_targets():
    snapshots = Snapshots()
    assert snapshots.folder == GAN_DIR and len(snapshots.epochs) >= 60
    assert snapshots.run["train_ids"][1] < 9000
    last = snapshots.history.iloc[-1]
    assert last["agree_male"] >= 0.95 and last["agree_female"] >= 0.95
    assert last["copies"] <= 0.01
    generator = load_generator()
    assert generator.generate("Alien", 2, 0).shape == (2, 24, 24, 4)
