"""Every shopper- and agent-facing string has its Japanese, and the compiled catalogues match.

Django's own makemessages runs over a temporary copy of the project (the repository's
catalogues are never rewritten): it finds every marked string (gettext in Python, translate
tags in templates, gettext() in static JavaScript) of every app, merges it into the copies of
the committed catalogues, and any msgid left without a Japanese msgstr, or fuzzy, is listed.
A marked string of an app without its own locale/ lands in the project's locale/ and is listed
there. Each committed .mo must be what msgfmt makes of its .po.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
LANGUAGE = "ja"
DOMAINS = ("django", "djangojs")
# What the project's marked strings live in: the apps, the templates and static files, and
# the committed catalogues the extraction merges into.
SOURCES = ("manage.py", "bot", "catalog", "support", "templates", "static", "locale")
# Bulky files with no marked strings (models, data): not copied, so the copy stays quick.
NOT_SOURCE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.onnx", "*.npy", "*.safetensors", "*.bin", "*.json", "*.yaml", "*.csv", "*.md", "*.svg")

pytestmark = pytest.mark.skipif(shutil.which("xgettext") is None or shutil.which("msgfmt") is None, reason="GNU gettext is not installed")


def project_copy(target: Path) -> Path:
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=NOT_SOURCE)
        elif source.exists():
            shutil.copy2(source, target / name)
    return target


def makemessages(root: Path) -> None:
    """Django's makemessages for Japanese, both domains, run in ``root`` (its settings, its files)."""
    env = {**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "support.settings", "PYTHONPATH": str(root)}
    for domain in DOMAINS:
        result = subprocess.run(
            [sys.executable, "manage.py", "makemessages", "-l", LANGUAGE, "-d", domain, "--no-obsolete"],
            cwd=root, env=env, capture_output=True, text=True, timeout=300,
        )
        assert result.returncode == 0, f"makemessages -d {domain} failed:\n{result.stdout}\n{result.stderr}"


def catalogues(root: Path) -> list[Path]:
    return sorted(p for p in root.glob(f"**/locale/{LANGUAGE}/LC_MESSAGES/*.po") if ".venv" not in p.parts)


def untranslated(root: Path) -> dict[str, list[str]]:
    """catalogue (relative path) -> the msgids without a Japanese msgstr, or marked fuzzy."""
    missing: dict[str, list[str]] = {}
    for path in catalogues(root):
        with open(path, "rb") as handle:
            catalog = read_po(handle, locale=LANGUAGE)
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
            if message.fuzzy or not all(s and s.strip() for s in strings):
                msgid = message.id[0] if isinstance(message.id, (tuple, list)) else message.id
                missing.setdefault(str(path.relative_to(root)), []).append(msgid)
    return missing


def _report(missing: dict[str, list[str]]) -> str:
    return "\n".join(f"{catalogue}:\n" + "\n".join(f"  - {msgid!r}" for msgid in ids) for catalogue, ids in missing.items())


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Path:
    root = project_copy(tmp_path_factory.mktemp("project"))
    makemessages(root)
    return root


def test_the_repositorys_catalogues_are_left_untouched_and_the_copy_has_every_app_catalogue(extracted):
    assert (extracted / "locale" / LANGUAGE / "LC_MESSAGES" / "django.po").exists()
    assert (extracted / "locale" / LANGUAGE / "LC_MESSAGES" / "djangojs.po").exists()
    for app in ("catalog", "support"):
        assert (extracted / app / "locale" / LANGUAGE / "LC_MESSAGES" / "django.po").exists(), app


def test_every_marked_string_has_its_japanese(extracted):
    missing = untranslated(extracted)
    assert not missing, "Marked strings without Japanese (write them, then compilemessages):\n" + _report(missing)


@pytest.mark.parametrize("po", catalogues(ROOT), ids=lambda p: str(p.relative_to(ROOT)))
def test_each_committed_mo_is_its_po_compiled(po, tmp_path):
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo.relative_to(ROOT)} is missing: run manage.py compilemessages"
    fresh = tmp_path / "fresh.mo"
    result = subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(po)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert fresh.read_bytes() == mo.read_bytes(), f"{mo.relative_to(ROOT)} is stale: run manage.py compilemessages"


def test_a_string_is_reported_once_it_is_marked_and_not_before(tmp_path):
    """The check can fail: in a copy, a new page with a plain English sentence passes (nothing
    marks it; that is what reviews catch), and the same sentence marked is reported, by name,
    in the project's catalogue, for templates and Python alike."""
    root = project_copy(tmp_path)
    sentence = "A brand-new sentence nobody translated yet."
    page = root / "templates" / "catalog" / "translation_probe.html"
    page.write_text(f"<p>{sentence}</p>\n", encoding="utf-8")
    module = root / "catalog" / "translation_probe.py"
    module.write_text(f'PROBE = "{sentence} (Python)"\n', encoding="utf-8")
    makemessages(root)
    before = [msgid for ids in untranslated(root).values() for msgid in ids]
    assert sentence not in before and f"{sentence} (Python)" not in before

    page.write_text(f'{{% load i18n %}}<p>{{% translate "{sentence}" %}}</p>\n', encoding="utf-8")
    module.write_text(f'from django.utils.translation import gettext_lazy as _\n\nPROBE = _("{sentence} (Python)")\n', encoding="utf-8")
    makemessages(root)
    after = untranslated(root)
    assert sentence in after.get(f"locale/{LANGUAGE}/LC_MESSAGES/django.po", []), _report(after)
    assert f"{sentence} (Python)" in after.get(f"catalog/locale/{LANGUAGE}/LC_MESSAGES/django.po", []), _report(after)
