def test_home_shows_the_dataset_at_a_glance_and_a_card_per_page(open_page):
    app = open_page("app.py")
    assert [m.value for m in app.metric] == ["10,000", "5", "87", "222"]
    assert app.title[0].value.endswith("Punk Lab")
    assert len(app.get("page_link")) >= 2
