import pytest

from punks_core.baselines import (
    constant_baseline,
    cooccurrence,
    label_counts,
    lift_over_baseline,
    split_type_counts,
)
from punks_core.labels import ACCESSORIES, LABELS, TYPES


def test_type_majority_baseline_is_60_39_percent(punks):
    baseline = constant_baseline(punks, list(TYPES), "all")
    assert baseline.majority_type == pytest.approx(0.6039)
    assert baseline.prediction.idxmax() == "Male" and baseline.prediction.sum() == 1


def test_all_labels_baseline_matches_the_reference_values(punks):
    everything = constant_baseline(punks, list(LABELS), "all")
    assert round(everything.hamming, 4) == 0.9615
    assert everything.exact_match == pytest.approx(0.0004)
    test = constant_baseline(punks, list(LABELS), "test")
    assert round(test.hamming, 4) == 0.9591
    assert test.n_punks == 1000
    assert test.prediction[list(ACCESSORIES)].sum() == 0


def test_subset_without_types_predicts_each_label_majority(punks):
    baseline = constant_baseline(punks, ["Earring", "Female"], "train")
    assert baseline.majority_type is None  # a type question needs all five types
    assert baseline.prediction.to_dict() == {"Earring": 0, "Female": 0}
    only_accessory = constant_baseline(punks, ["Earring"], "all")
    assert only_accessory.majority_type is None
    assert only_accessory.hamming == pytest.approx(1 - 2459 / 10_000)


def test_empty_label_choice_is_refused(punks):
    with pytest.raises(ValueError, match="at least one label"):
        constant_baseline(punks, [], "all")


def test_counts_and_splits(punks):
    counts = label_counts(punks)
    assert counts["Male"] == 6039 and counts["Beanie"] == 44
    splits = split_type_counts(punks)
    assert splits.loc["Alien"].to_dict() == {"train": 9, "val": 0, "test": 0, "all": 9}
    assert splits.loc["Ape", "test"] == 2


def test_cooccurrence_is_symmetric_with_counts_on_the_diagonal(punks):
    matrix = cooccurrence(punks.labels)
    assert (matrix.to_numpy() == matrix.to_numpy().T).all()
    assert matrix.loc["Beanie", "Beanie"] == 44


def test_lift_is_sorted_worst_first(punks):
    baseline = constant_baseline(punks, ["Earring", "Cap"], "test")
    lift = lift_over_baseline(baseline.per_label + [0.10, -0.01], baseline)
    assert list(lift.index) == ["Cap", "Earring"]
    assert lift.loc["Cap", "lift"] == pytest.approx(-0.01)
