"""AppTest of the entry point: the navigation opens on Home, whose cards follow LAB_PAGES."""

from ui.navigation import LAB_PAGES, lab_pages


def test_home_shows_the_dataset_at_a_glance_and_a_card_per_page(open_page):
    app = open_page("app.py")
    assert [m.value for m in app.metric] == ["10,000", "5", "87", "222"]
    assert app.title[0].value == "🟦 Punk Lab"
    links = app.get("page_link")
    # Cards in reading order, one title per page: the registry's, the sidebar's, the tab's.
    assert [link.proto.label for link in links] == [f"**{p.title}**" for p in lab_pages()]
    assert [s.value for s in app.subheader] == list(dict.fromkeys(p.section for p in lab_pages()))


def test_the_registry_names_every_page_file_once():
    files = [page.file for page in LAB_PAGES]
    assert len(set(files)) == len(files)
    assert {p.title for p in LAB_PAGES} >= {"Class Balance & Baselines", "Hyperparameter Sweeps"}
    present = {p.file for p in lab_pages()}
    assert all(p.exists() == (p.file in present) for p in LAB_PAGES)  # Punk Builder: if present


def test_every_page_title_is_its_registered_title(open_page):
    for page in lab_pages():
        app = open_page(page.file, timeout=120)
        assert app.title[0].value == f"{page.icon} {page.title}", page.file
