"""A few canned replies to start with; the desk edits them in the admin."""

from django.db import migrations

DEFAULTS = [
    ("Greeting", "hello", "Hi, I'm from the support team and I've read your conversation with our assistant. Give me a moment to look into it."),
    ("Checking", "checking", "Thanks for your patience — I'm checking this with our warehouse now and will be right back."),
    ("Order number", "order", "Could you tell me your order number and the e-mail address you ordered with? Then I can look at your order."),
    ("Return started", "return", "I've started your return — the return label and the instructions are on their way to your e-mail address."),
    ("Anything else", "anything-else", "Is there anything else I can help you with today?"),
    ("Goodbye", "bye", "Thanks for contacting us — have a lovely day! The assistant stays here if you need anything later."),
]


def create(apps, schema_editor):
    CannedReply = apps.get_model("support", "CannedReply")
    for title, shortcut, text in DEFAULTS:
        CannedReply.objects.get_or_create(shortcut=shortcut, defaults={"title": title, "text": text})


def remove(apps, schema_editor):
    CannedReply = apps.get_model("support", "CannedReply")
    CannedReply.objects.filter(shortcut__in=[s for _, s, _ in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
