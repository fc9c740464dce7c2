"""Static files storage for production: hashed, compressed names from the collected manifest."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class ShopStaticFilesStorage(CompressedManifestStaticFilesStorage):
    # A file missing from the manifest (collectstatic not re-run after a deploy) falls back to
    # its plain name instead of raising: a product image must never break a chat answer.
    manifest_strict = False
