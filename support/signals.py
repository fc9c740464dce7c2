"""Agent access that is taken away reaches the open workspace sockets at once.

Logging out, deactivation, losing the staff flag, a group or the permission, or deletion tell
that user's agent sockets (bot.events.agent_access_changed) to re-check and close with 4403.
The sockets also re-check on their own every SUPPORT_AGENT_RECHECK_SECONDS, for changes that
send no signal (a queryset .update(), raw SQL) or a push that was lost (Redis restarted).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import m2m_changed, post_save, pre_delete
from django.dispatch import receiver

from bot import events

User = get_user_model()


def _tell(user_ids) -> None:
    for user_id in set(user_ids):
        events.agent_access_changed(user_id)


@receiver(user_logged_out, dispatch_uid="support.agent_logged_out")
def agent_logged_out(sender, request, user, **kwargs):
    if user is None:
        return
    # Only the sockets opened with the session that logged out close: Django ends one session
    # per logout, and the agent's other browsers stay logged in (and keep their workspace).
    # Without a session key at hand, all of the user's agent sockets close.
    session = getattr(request, "session", None)
    session_key = getattr(session, "session_key", None)
    events.agent_access_changed(user.pk, logged_out=True, logged_out_session=session_key)


@receiver(post_save, sender=User, dispatch_uid="support.agent_user_saved")
def agent_user_saved(sender, instance, created, update_fields=None, **kwargs):
    # A login saves last_login only: nothing to re-check. Any other save may have removed
    # is_active or is_staff or changed the password; the sockets re-check cheaply.
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return
    _tell([instance.pk])


@receiver(pre_delete, sender=User, dispatch_uid="support.agent_user_deleted")
def agent_user_deleted(sender, instance, **kwargs):
    _tell([instance.pk])


@receiver(pre_delete, sender=Group, dispatch_uid="support.agent_group_deleted")
def agent_group_deleted(sender, instance, **kwargs):
    _tell(instance.user_set.values_list("pk", flat=True))


def _members(groups) -> list[int]:
    return list(User.objects.filter(groups__in=groups).values_list("pk", flat=True))


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="support.agent_groups_changed")
@receiver(m2m_changed, sender=User.user_permissions.through, dispatch_uid="support.agent_permissions_changed")
@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="support.agent_group_permissions_changed")
def agent_grants_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """Only removals can take access away; the users are read before the rows go."""
    if action not in ("pre_remove", "pre_clear"):
        return
    if sender is Group.permissions.through:
        if not reverse:  # group.permissions.remove(...)
            _tell(_members([instance]))
        else:  # permission.group_set.remove(groups...)
            groups = pk_set if pk_set is not None else instance.group_set.values_list("pk", flat=True)
            _tell(_members(list(groups)))
    elif not reverse:  # user.groups.remove(...), user.user_permissions.remove(...)
        _tell([instance.pk])
    elif isinstance(instance, (Group, Permission)):  # group.user_set.remove(...), permission.user_set...
        _tell(pk_set if pk_set is not None else instance.user_set.values_list("pk", flat=True))
