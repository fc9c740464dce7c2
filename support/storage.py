"""Static files storage for production: hashed, compressed names from the collected manifest."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class ShopStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """A file missing from the manifest (collectstatic not re-run after a deploy, or not run at
    all) falls back to its plain name instead of raising: a product image must never break a
    chat answer or a page.
    """

    manifest_strict = False

    def stored_name(self, name):
        try:
            return super().stored_name(name)
        except ValueError:
            # Not in the manifest and not collected either: Django would hash the file and fail.
            return name
