"""Message.reply_seconds: an assistant's reply time, a fact of the reply's own row (issue #16)."""

from django.db import migrations, models

BATCH = 2000


def reply_seconds_of_past_replies(apps, schema_editor):
    """Replies stored before this column: the seconds from the message right before each
    assistant message in its conversation, when that one is the shopper's (what the insights
    measured until now). Computed once here, like the turn does for new replies."""
    Message = apps.get_model("bot", "Message")
    previous = None  # (conversation_id, pk, sender, created_at) of the last row read
    while True:
        rows = Message.objects.order_by("conversation_id", "pk")
        if previous:
            rows = rows.filter(
                models.Q(conversation_id__gt=previous[0]) | models.Q(conversation_id=previous[0], pk__gt=previous[1])
            )
        page = list(rows.values_list("conversation_id", "pk", "sender", "created_at")[:BATCH])
        if not page:
            return
        changed = []
        for row in page:
            conversation_id, pk, sender, created_at = row
            if sender == "bot" and previous and previous[0] == conversation_id and previous[2] == "shopper":
                changed.append(Message(pk=pk, reply_seconds=(created_at - previous[3]).total_seconds()))
            previous = row
        Message.objects.bulk_update(changed, ["reply_seconds"])


class Migration(migrations.Migration):

    dependencies = [
        ("bot", "0006_model_versions"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="reply_seconds",
            field=models.FloatField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(reply_seconds_of_past_replies, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                condition=models.Q(reply_seconds__isnull=False),
                fields=["created_at", "reply_seconds"],
                name="message_reply_seconds",
            ),
        ),
    ]
