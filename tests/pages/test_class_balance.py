PAGE = "pages/2_Class_Balance.py"


def metrics(app):
    return {m.label: m.value for m in app.metric}


def test_type_task_shows_the_majority_baseline(open_page):
    app = open_page(PAGE)
    assert metrics(app)["Majority-class accuracy (type)"] == "60.39%"


def test_all_labels_on_test_split_is_95_91_percent(open_page):
    app = open_page(PAGE)
    app.radio(key="balance_task").set_value("Type + all 87 accessories (92 labels)")
    app.radio(key="balance_split").set_value("test").run()
    assert not app.exception
    assert metrics(app)["Per-label (Hamming) accuracy"] == "95.91%"
    assert metrics(app)["Exact match (all labels right)"] == "0.00%"


def test_custom_subset_and_empty_subset(open_page):
    app = open_page(PAGE)
    app.radio(key="balance_task").set_value("Any subset of labels").run()
    app.multiselect(key="balance_labels").set_value(["Earring"]).run()
    assert metrics(app)["Per-label (Hamming) accuracy"] == "75.41%"
    app.multiselect(key="balance_labels").set_value([]).run()
    assert not app.exception
    assert "at least one label" in app.info[0].value
