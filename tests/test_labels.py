from punks_core.labels import ACCESSORIES, LABELS, TYPES, canonical_label, display_name


def test_label_counts_and_order():
    assert TYPES == ("Alien", "Ape", "Zombie", "Female", "Male")
    assert len(ACCESSORIES) == 87 and len(set(ACCESSORIES)) == 87
    assert LABELS == TYPES + ACCESSORIES


def test_display_names_follow_the_official_spelling():
    assert display_name("blondeBob") == "Blonde Bob"
    assert display_name("hornedRimGlasses") == "Horned Rim Glasses"
    assert display_name("3DGlasses") == "3D Glasses"
    assert display_name("doRag") == "Do-rag"
    assert display_name("vr") == "VR"
    assert display_name("pipe") == "Pipe"


def test_canonical_label_ignores_case_and_space():
    assert canonical_label("  clown nose ") == "Clown Nose"
    assert canonical_label("do-rag") == "Do-rag"
    assert canonical_label("Laser Eyes") is None
