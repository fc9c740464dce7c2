"""The catalogue and help centre in the shopper's language.

The catalogue's own language (SOURCE_LANGUAGE, English) lives on Product, Category and Article;
every other language is a translation row (ProductTranslation, CategoryTranslation,
ArticleTranslation), one per object and language. A field a translation leaves blank, or a
missing translation, falls back to the original. Pages fetch their rows as before and call
``localize`` on them: the instances then show the language's text (templates are unchanged),
and refuse ``save()`` (catalog.models.Translatable).

Why rows of our own rather than django-modeltranslation's columns: the English rows stay what
every existing query, import and the English assistant read (modeltranslation rewrites
``filter(name=...)`` to the active language's column, which would change what the assistant's
catalogue lookups match during a Japanese conversation), and a new language is new rows, not a
migration per language.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import translation

from .models import Article, ArticleTranslation, Category, CategoryTranslation, Product, ProductTranslation

SOURCE_LANGUAGE = "en"

# model -> (translation model, its foreign key to the model, the fields translated)
TRANSLATED = {
    Product: (ProductTranslation, "product", ("name", "description", "materials")),
    Category: (CategoryTranslation, "category", ("name", "description")),
    Article: (ArticleTranslation, "article", ("title", "tags", "body")),
}


def language_code(language: str | None = None) -> str:
    """The primary subtag of ``language`` (default: the active one): "ja-JP" -> "ja"."""
    code = (language or translation.get_language() or settings.LANGUAGE_CODE or SOURCE_LANGUAGE).lower()
    return code.replace("_", "-").split("-")[0]


def shop_languages() -> list[str]:
    return [language_code(code) for code, _ in settings.LANGUAGES]


# --- Reads --------------------------------------------------------------------------------------


def translations_of(model, ids, language: str) -> dict[int, dict[str, str]]:
    """{object id: {field: text}} of the non-blank translated fields, for one language."""
    if language_code(language) == SOURCE_LANGUAGE:
        return {}  # the original is on the row itself
    row_model, key, fields = TRANSLATED[model]
    rows = row_model.objects.filter(**{f"{key}_id__in": list(ids), "language": language}).values(f"{key}_id", *fields)
    return {row[f"{key}_id"]: {f: row[f] for f in fields if row[f]} for row in rows}


def localize(objects, language: str | None = None):
    """Put ``language``'s text (default: the active language) on these instances, in memory, with
    the original as the fallback; a product's category too when it was fetched with it. Returns
    the objects (a list), for chaining. One query per model present."""
    objects = list(objects)
    language = language_code(language)
    if language == SOURCE_LANGUAGE or not objects:
        return objects
    found: dict[type, dict[int, object]] = {}
    for obj in objects:
        found.setdefault(type(obj), {})[obj.pk] = obj
        if isinstance(obj, Product) and Product.category.is_cached(obj):
            found.setdefault(Category, {})[obj.category.pk] = obj.category
    for model, by_id in found.items():
        if model not in TRANSLATED:
            continue
        texts = translations_of(model, by_id, language)
        for pk, obj in by_id.items():
            for field, text in texts.get(pk, {}).items():
                setattr(obj, field, text)
            obj.localized_to = language
    return objects


def article_text(article: Article, language: str | None = None) -> dict[str, str]:
    """An article's title, tags and body in ``language``, each falling back to the original."""
    language = language_code(language)
    text = {"title": article.title, "tags": article.tags, "body": article.body}
    if language != SOURCE_LANGUAGE:
        text.update(translations_of(Article, [article.pk], language).get(article.pk, {}))
    return text


# --- Writes -------------------------------------------------------------------------------------


def _checked_language(language: str) -> str:
    code = language_code(language)
    if code == SOURCE_LANGUAGE:
        raise ValueError(f"{SOURCE_LANGUAGE} is the catalogue's own language: edit the object itself")
    if code not in shop_languages():
        raise ValueError(f"{language!r} is not one of the shop's languages ({', '.join(shop_languages())}; SHOP_LANGUAGES)")
    return code


@transaction.atomic
def product_translation_save(*, product: Product, language: str, name: str = "", description: str = "", materials: str = "") -> ProductTranslation:
    row, _ = ProductTranslation.objects.update_or_create(
        product=product, language=_checked_language(language),
        defaults={"name": name.strip(), "description": description.strip(), "materials": materials.strip()},
    )
    return row


@transaction.atomic
def category_translation_save(*, category: Category, language: str, name: str = "", description: str = "") -> CategoryTranslation:
    row, _ = CategoryTranslation.objects.update_or_create(
        category=category, language=_checked_language(language), defaults={"name": name.strip(), "description": description.strip()}
    )
    return row


@transaction.atomic
def article_translation_save(*, article: Article, language: str, title: str = "", tags: str = "", body: str = "") -> ArticleTranslation:
    """Saving re-indexes the article for the assistant after commit (bot/signals.py)."""
    row, _ = ArticleTranslation.objects.update_or_create(
        article=article, language=_checked_language(language), defaults={"title": title.strip(), "tags": tags.strip(), "body": body.strip()}
    )
    return row
