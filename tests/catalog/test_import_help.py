"""import_help: help articles from a Markdown folder or a CSV, upserted by slug."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from bot.models import ArticlePassage
from catalog.models import Article
from tests.factories import ArticleFactory

DATA = Path(__file__).parent / "data"


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_help", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_markdown_folder_becomes_articles_and_unknown_topics_get_the_default():
    out, err = run(DATA / "help_articles")
    wrapping = Article.objects.get(slug="gift-wrapping")
    assert (wrapping.title, wrapping.topic, wrapping.tags) == ("Gift wrapping", "orders", "gift, wrapping")
    assert wrapping.body.startswith("We wrap any order in recycled paper")
    assert "\n\nThe packing slip" in wrapping.body
    sizes = Article.objects.get(slug="size-guide-2026")  # the front matter's slug wins
    assert sizes.topic == "orders"
    assert "unknown topic 'sizing'" in err
    assert "2 created" in out


@pytest.mark.django_db(transaction=True)  # the re-index runs after commit
def test_imported_articles_are_indexed_for_knowledge_search():
    run(DATA / "help_articles")
    assert ArticlePassage.objects.filter(article__slug="gift-wrapping").count() == 2


@pytest.mark.django_db
def test_csv_upserts_by_slug_from_the_title():
    existing = ArticleFactory(slug="opening-hours", title="Opening hours", topic="contact", body="Old hours.")
    out, _ = run(DATA / "help_articles.csv")
    existing.refresh_from_db()
    assert existing.body.startswith("Our shop in Hamburg is open")
    assert Article.objects.filter(slug="opening-hours").count() == 1
    assert Article.objects.get(slug="paying-by-invoice").topic == "orders"  # no topic: the default
    assert "1 created, 1 updated" in out
    before = list(Article.objects.values_list("slug", "updated_at"))
    out, _ = run(DATA / "help_articles.csv")
    assert "0 created, 0 updated, 2 unchanged" in out
    assert list(Article.objects.values_list("slug", "updated_at")) == before


@pytest.mark.django_db
def test_a_bad_file_stops_the_import_and_writes_nothing(tmp_path):
    (tmp_path / "good.md").write_text("---\ntitle: Good\ntopic: orders\n---\nA good article body text.\n")
    (tmp_path / "bad.md").write_text("No front matter here.\n")
    with pytest.raises(CommandError, match="1 problem"):
        run(tmp_path)
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_dry_run_writes_nothing():
    out, _ = run(DATA / "help_articles.csv", "--dry-run")
    assert "2 created" in out and "dry run" in out
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_a_file_with_a_language_is_the_translation_of_the_article_with_its_slug(tmp_path):
    from catalog.models import ArticleTranslation

    (tmp_path / "gift-wrapping.md").write_text("---\ntitle: Gift wrapping\ntopic: orders\n---\nWe wrap any order for EUR 3.50.\n")
    (tmp_path / "gift-wrapping.ja.md").write_text(
        "---\ntitle: ギフトラッピング\nlanguage: ja\nslug: gift-wrapping\ntags: [ラッピング, 包装]\n---\nどのご注文も3.50ユーロでラッピングします。\n",
        encoding="utf-8",
    )
    out, _ = run(tmp_path)
    assert "1 created" in out and "translations: 1 written" in out
    translated = ArticleTranslation.objects.get(article__slug="gift-wrapping", language="ja")
    assert (translated.title, translated.tags, translated.body) == ("ギフトラッピング", "ラッピング, 包装", "どのご注文も3.50ユーロでラッピングします。")
    assert Article.objects.count() == 1  # the translation is no article of its own
    out, _ = run(tmp_path)
    assert "translations: 0 written, 1 unchanged" in out


@pytest.mark.django_db
def test_a_translation_needs_an_existing_article_and_a_shop_language(tmp_path):
    (tmp_path / "orphan.md").write_text("---\ntitle: 孤児\nlanguage: ja\nslug: no-such-article\n---\n本文です。\n", encoding="utf-8")
    with pytest.raises(CommandError, match="1 problem"):
        run(tmp_path)
    (tmp_path / "orphan.md").write_text("---\ntitle: Waisen\nlanguage: de\nslug: no-such-article\n---\nText.\n", encoding="utf-8")
    with pytest.raises(CommandError, match="1 problem"):
        run(tmp_path)
    assert not Article.objects.exists()
