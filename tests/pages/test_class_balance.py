import pytest

from ui.class_balance import COUNT_TABS

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


def test_lift_ranks_the_weakest_labels_by_f1_worst_on_top(open_page):
    import json

    app = open_page(PAGE)
    five = app.table[-1].value
    assert len(five) == 5 and five["F1"].is_monotonic_increasing  # the weakest, worst first
    assert not any("balance_lift" in str(c.proto.id) for c in app.get("plotly_chart"))
    app.session_state["balance_weakest"] = True
    app.run()
    chart = next(c for c in app.get("plotly_chart") if "balance_lift" in str(c.proto.id))
    figure = json.loads(chart.proto.spec)
    assert figure["layout"]["yaxis"]["autorange"] == "reversed"  # first row drawn at the top
    assert not app.dataframe  # the small tables are static; the long ones wait in expanders
    app.session_state["balance_every_label"] = True
    app.run()
    table = app.dataframe[-1].value
    assert table["f1"].is_monotonic_increasing and table["f1"].notna().all()
    from punks_core.reports import load_report

    present = [r for r in load_report("cnn")["per_label"] if r["test_positives"] > 0]
    assert table.index[0] == min(present, key=lambda r: r["f1"])["label"]


@pytest.mark.parametrize("tab", COUNT_TABS)
def test_each_count_tab_draws_its_picture_alone_and_no_plotly(open_page, tab, monkeypatch):
    import ui.class_balance as balance

    drawn, draw = [], balance.counts_png
    monkeypatch.setattr(
        balance, "counts_png", lambda punks, name, log: drawn.append(name) or draw(punks, name, log)
    )
    app = open_page(PAGE)
    assert drawn == [COUNT_TABS[0]]  # the page opens on the first tab
    drawn.clear()
    app.session_state["balance_counts"] = tab
    app.run()
    assert not app.exception
    assert drawn == [tab] and len(app.get("image")) == 1  # that tab's picture, alone
    assert not app.get("plotly_chart")  # the page opens without loading Plotly


@pytest.mark.parametrize("log", [True, False])
def test_count_bars_read_plain_numbers_on_both_scales(punks, log):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from punks_core.baselines import label_counts
    from punks_core.labels import ACCESSORIES
    from ui.charts import bar_figure

    counts = label_counts(punks)[list(ACCESSORIES)].sort_values(ascending=False)
    figure = bar_figure(counts, "Punks per accessory", log, horizontal=True)
    FigureCanvasAgg(figure).draw()
    axes = figure.axes[0]
    bars = axes.patches
    assert len(bars) == 87 and max(b.get_width() for b in bars) == counts.max()
    assert [t.get_text() for t in axes.get_yticklabels()][0] == counts.index[0]  # biggest on top
    ticks = [t.get_text() for t in axes.get_xticklabels() if t.get_text()]
    if log:
        assert axes.get_xscale() == "log" and axes.get_xlim()[0] < 1  # a count of 1 shows
        assert {"1", "10", "100", "1,000"} <= set(ticks)
    else:
        assert "2,000" in ticks


def test_the_92_percent_note_uses_the_real_mean_accessory_counts(open_page):
    app = open_page(PAGE)
    note = next(m.value for m in app.markdown if "about 92 %" in m.value)
    assert "2.75 on average, 2.99 on the test split" in note
    assert "96.15%" in note and "95.91%" in note
    assert any("yes/no question" in c.value for c in app.caption)  # type mode explained
