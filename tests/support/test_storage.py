"""Production static storage: a file missing from the manifest never breaks a page or a chat answer."""

from support.storage import ShopStaticFilesStorage


def test_a_file_missing_from_the_manifest_and_from_static_root_gets_its_plain_url(tmp_path, settings):
    storage = ShopStaticFilesStorage(location=str(tmp_path), base_url="/static/")
    assert storage.url("img/products/not-collected.svg") == "/static/img/products/not-collected.svg"


def test_a_collected_file_gets_its_hashed_url(tmp_path, settings):
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "logo.svg").write_text("<svg/>")
    storage = ShopStaticFilesStorage(location=str(tmp_path), base_url="/static/")
    url = storage.url("img/logo.svg")
    assert url.startswith("/static/img/logo.") and url.endswith(".svg") and url != "/static/img/logo.svg"
