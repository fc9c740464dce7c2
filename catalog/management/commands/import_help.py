"""manage.py import_help PATH: bring help articles in from a Markdown folder or a CSV file."""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Create or update help articles (by slug) from a folder of Markdown files with YAML front matter "
        "(title, optional topic, slug, tags) or a CSV file (title, body, optional topic, slug, tags). "
        "With language (e.g. ja) and the slug of an article, a file or row is that article's translation. "
        "Everything is checked first; with any error nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="a folder of .md files, or a .csv file")
        parser.add_argument("--dry-run", action="store_true", help="check and report what would change; write nothing")

    def handle(self, *args, path, dry_run, **options):
        from django.conf import settings

        from catalog.help_import import HelpFileInvalid, help_articles_import, help_articles_read
        from catalog.models import Article

        if settings.HELP_IMPORT_DEFAULT_TOPIC not in Article.Topic.values:
            raise CommandError(f"HELP_IMPORT_DEFAULT_TOPIC must be one of {', '.join(Article.Topic.values)}")
        try:
            articles, warnings = help_articles_read(path)
            for warning in warnings:
                self.stderr.write(f"warning: {warning}")
            # a translation of an article that does not exist is found here (atomic: nothing written)
            summary = help_articles_import(articles=articles, dry_run=dry_run)
        except HelpFileInvalid as exc:
            for problem in exc.problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(exc.problems)} problem(s) in {path}; nothing was imported.") from None
        changes = summary.created + summary.updated
        self.stdout.write(
            f"{path}: articles {summary.created} created, {summary.updated} updated, {summary.unchanged} unchanged; "
            f"{changes} change(s) {'would be' if dry_run else 'were'} made{' (dry run: nothing written)' if dry_run else ''}."
        )
        if summary.translations_written or summary.translations_unchanged:
            self.stdout.write(
                f"translations: {summary.translations_written} {'to write' if dry_run else 'written'}, "
                f"{summary.translations_unchanged} unchanged."
            )
