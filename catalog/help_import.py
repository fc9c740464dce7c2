"""Bring a shop's help articles in: a folder of Markdown files with front matter, or a CSV.

A Markdown file starts with YAML front matter between two ``---`` lines: ``title`` (required),
``topic``, ``slug`` and ``tags`` (optional); the rest is the body. A CSV has the columns title
and body, optionally topic, slug and tags. With ``language`` (one of the shop's other languages,
e.g. ``ja``) and the ``slug`` of an article, the file (or row) is that article's translation
(catalog/translations.py) instead of an article. Articles are matched by slug (the given one, else
made from the title) and only written when something differs. Everything is checked before
anything is written. Each saved article is re-embedded for the assistant's knowledge search
after commit (bot/signals.py, the same task an edit in the admin enqueues).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from .models import Article

FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n?(.*)\Z", re.S)


class HelpFileInvalid(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class HelpArticle:
    source: str
    slug: str
    title: str
    topic: str
    tags: str
    body: str
    language: str = ""  # blank: the article itself; else a translation of the article with this slug


@dataclass
class HelpSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)
    translations_written: int = 0
    translations_unchanged: int = 0


def markdown_to_text(markdown: str) -> str:
    """Markdown as the plain paragraphs an article holds: headings lose their #, a paragraph's
    lines are joined, list items stay one per line (the chat quotes a paragraph as one passage)."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", markdown.replace("\r\n", "\n").strip()):
        lines = [re.sub(r"^#{1,6}\s+", "", line.strip()) for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        if all(re.match(r"([-*+]|\d+[.)])\s", line) for line in lines):
            paragraphs.append("\n".join(re.sub(r"^[*+]\s", "- ", line) for line in lines))
        else:
            paragraphs.append(" ".join(lines))
    return "\n\n".join(paragraphs)


def _tags(value) -> str:
    if isinstance(value, (list, tuple)):
        value = ",".join(str(t) for t in value)
    return ", ".join(t.strip() for t in str(value or "").split(",") if t.strip())


def _article(source: str, meta: dict, body: str, problems: list[str], warnings: list[str]) -> HelpArticle | None:
    title = str(meta.get("title") or "").strip()
    if not title:
        problems.append(f"{source}: no title")
        return None
    language = str(meta.get("language") or "").strip()
    if language:
        from .translations import SOURCE_LANGUAGE, language_code, shop_languages

        language = language_code(language)
        if language == SOURCE_LANGUAGE:
            language = ""  # the catalogue's own language: the article itself
        elif language not in shop_languages():
            problems.append(f"{source}: language {language!r} is not one of the shop's languages ({', '.join(shop_languages())})")
            return None
        elif not str(meta.get("slug") or "").strip():
            problems.append(f"{source}: a translation (language {language}) needs the slug of the article it translates")
            return None
    slug = str(meta.get("slug") or "").strip() or slugify(title)
    if not slug or slugify(slug) != slug:
        problems.append(f"{source}: {slug!r} is not a slug (lower-case letters, digits, hyphens)")
        return None
    text = markdown_to_text(body)
    if not text:
        problems.append(f"{source}: the article has no body")
        return None
    topic = str(meta.get("topic") or "").strip().lower()
    default = settings.HELP_IMPORT_DEFAULT_TOPIC
    if topic not in Article.Topic.values:
        if topic:
            warnings.append(f"{source}: unknown topic {topic!r}, filed under {default!r} (topics: {', '.join(Article.Topic.values)})")
        topic = default
    if len(title) > 200 or len(slug) > 220:
        problems.append(f"{source}: the title is longer than 200 characters or the slug longer than 220")
        return None
    return HelpArticle(source=source, slug=slug, title=title, topic=topic, tags=_tags(meta.get("tags"))[:300], body=text, language=language)


def help_articles_read(path: str | Path) -> tuple[list[HelpArticle], list[str]]:
    """The articles of a Markdown folder or a CSV file, and warnings; raises HelpFileInvalid."""
    path = Path(path)
    problems: list[str] = []
    warnings: list[str] = []
    articles: list[HelpArticle] = []
    if path.is_dir():
        files = sorted(path.glob("*.md"))
        if not files:
            raise HelpFileInvalid([f"{path}: no .md files in the folder"])
        for file in files:
            try:
                text = file.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
            except UnicodeDecodeError:
                problems.append(f"{file}: not UTF-8 text")
                continue
            match = FRONT_MATTER.match(text)
            if not match:
                problems.append(f"{file}: line 1: an article starts with front matter between two '---' lines")
                continue
            try:
                meta = yaml.safe_load(match.group(1)) or {}
            except yaml.YAMLError as exc:
                problems.append(f"{file}: invalid front matter: {exc}")
                continue
            if not isinstance(meta, dict):
                problems.append(f"{file}: the front matter must be a mapping (title: …)")
                continue
            article = _article(str(file), meta, match.group(2), problems, warnings)
            if article:
                articles.append(article)
    elif path.is_file():
        try:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                rows = csv.reader(fh)
                header = [h.strip().lower() for h in next(rows, [])]
                if not {"title", "body"} <= set(header):
                    raise HelpFileInvalid([f"{path}: line 1: the header needs the columns title and body"])
                end = 1
                for values in rows:
                    start, end = end + 1, rows.line_num
                    if any(v.strip() for v in values):
                        row = dict(zip(header, values))
                        article = _article(f"{path}: line {start}", row, row.get("body", ""), problems, warnings)
                        if article:
                            articles.append(article)
        except UnicodeDecodeError:
            raise HelpFileInvalid([f"{path}: not UTF-8 text"]) from None
        except csv.Error as exc:
            raise HelpFileInvalid([f"{path}: not a valid CSV file: {exc}"]) from None
    else:
        raise HelpFileInvalid([f"{path}: no such file or folder"])
    seen: dict[tuple[str, str], str] = {}
    for article in articles:
        key = (article.slug, article.language)
        if key in seen:
            problems.append(f"{article.source}: the slug {article.slug!r} is already used by {seen[key]}")
        seen.setdefault(key, article.source)
    if problems:
        raise HelpFileInvalid(problems)
    return articles, warnings


@transaction.atomic
def help_articles_import(*, articles: list[HelpArticle], dry_run: bool = False) -> HelpSummary:
    """Create or update articles by slug, then the translations; saving one enqueues its article's
    re-indexing after commit."""
    summary = HelpSummary()
    translations = [a for a in articles if a.language]
    articles = [a for a in articles if not a.language]
    existing = {a.slug: a for a in Article.objects.filter(slug__in=[a.slug for a in articles])}
    for item in articles:
        values = {"title": item.title, "topic": item.topic, "tags": item.tags, "body": item.body}
        article = existing.get(item.slug)
        if article is None:
            summary.created += 1
            article = Article(slug=item.slug, **values)
        elif any(getattr(article, k) != v for k, v in values.items()):
            summary.updated += 1
            for k, v in values.items():
                setattr(article, k, v)
        else:
            summary.unchanged += 1
            continue
        if not dry_run:
            article.full_clean()
            article.save()
    if translations:
        _import_translations(translations, new={a.slug for a in articles}, dry_run=dry_run, summary=summary)
    return summary


def _import_translations(items: list[HelpArticle], *, new: set[str], dry_run: bool, summary: HelpSummary) -> None:
    from .models import ArticleTranslation
    from .translations import article_translation_save

    by_slug = {a.slug: a for a in Article.objects.filter(slug__in=[t.slug for t in items])}
    missing = [f"{t.source}: no article with the slug {t.slug!r} to translate" for t in items if t.slug not in by_slug and t.slug not in new]
    if missing:
        raise HelpFileInvalid(missing)  # inside the atomic import: nothing is written
    have = {(t.article_id, t.language): t for t in ArticleTranslation.objects.filter(article__slug__in=list(by_slug))}
    for item in items:
        article = by_slug.get(item.slug)
        values = {"title": item.title, "tags": item.tags, "body": item.body}
        current = have.get((article.pk, item.language)) if article else None
        if current and all(getattr(current, k) == v for k, v in values.items()):
            summary.translations_unchanged += 1
            continue
        summary.translations_written += 1
        if not dry_run:
            article_translation_save(article=article, language=item.language, **values)
