"""The admin's "Intent models" page: every model version with its figures, status and gate reason,
"Retrain now" with a progress bar (static/support/retrain.js polls progress.json), and one-click
promotion, rollback and shadow. Thin over bot.retraining."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from bot import retraining
from bot.models import ModelVersion, RetrainJob

RECENT_JOBS = 5


def _figure(figures: dict, name: str) -> str:
    row = (figures or {}).get(name) or {}
    if row.get("accuracy") is None:
        return "—"
    return f"{row['accuracy'] * 100:.1f}% ({row['correct']}/{row['n']})"


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("version", "status", "gate_passed", "created_at", "promoted_at")

    def has_add_permission(self, request):
        return False  # versions come from retraining (or are the shipped one)

    def has_delete_permission(self, request, obj=None):
        return False  # a retired version stays listed: rollback needs it

    def get_urls(self):
        wrap = self.admin_site.admin_view
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("", wrap(self.versions_view), name=f"{name}_changelist"),
            path("progress.json", wrap(self.progress_view), name=f"{name}_progress"),
            path("retrain/", wrap(self.retrain_view), name=f"{name}_retrain"),
            path("rollback/", wrap(self.rollback_view), name=f"{name}_rollback"),
            path("shadow/stop/", wrap(self.shadow_stop_view), name=f"{name}_shadow_stop"),
            path("<int:pk>/promote/", wrap(self.promote_view), name=f"{name}_promote"),
            path("<int:pk>/shadow/", wrap(self.shadow_view), name=f"{name}_shadow"),
        ] + super().get_urls()[1:]  # the rest of the admin's own (change, history), not its changelist

    def _require(self, request, change: bool = False) -> None:
        allowed = self.has_change_permission(request) if change else self.has_view_permission(request)
        if not allowed:
            raise PermissionDenied

    def versions_view(self, request):
        self._require(request)
        retraining.baseline_version()
        retraining.jobs_mark_stale()
        versions = list(ModelVersion.objects.select_related("promoted_by"))
        rows = []
        for version in versions:
            candidate = version.report.get("candidate", {})
            serving = version.report.get("serving", {})
            rows.append({
                "version": version,
                "figures": [(_figure(candidate, g.name), _figure(serving, g.name)) for g in retraining.GUARD_SETS]
                + [(_figure(candidate, retraining.SHOP_SET), _figure(serving, retraining.SHOP_SET))],
                "judged_against": serving.get("version", ""),
                "shadow_agreement": None if version.shadow_agreement is None else f"{version.shadow_agreement * 100:.1f}%",
                "can_promote": version.status != ModelVersion.Status.SERVING and version.gate_passed is not False,
                "can_shadow": version.status in (ModelVersion.Status.CANDIDATE, ModelVersion.Status.RETIRED) and not version.is_baseline and version.gate_passed is not False,
            })
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Intent models"),
            "rows": rows,
            "guard_sets": retraining.GUARD_SETS,
            "can_change": self.has_change_permission(request),
            "job": retraining.latest_job(),
            "jobs": RetrainJob.objects.select_related("candidate", "started_by")[:RECENT_JOBS],
            "progress_url": reverse("admin:bot_modelversion_progress"),
            "tolerance_points": f"{settings.RETRAIN_GUARD_TOLERANCE * 100:.1f}",
            "holdout_percent": settings.RETRAIN_HOLDOUT_PERCENT,
            "schedule": settings.RETRAIN_SCHEDULE,
            "shadow_running": any(v.status == ModelVersion.Status.SHADOW for v in versions),
        }
        return TemplateResponse(request, "admin/bot/modelversion/versions.html", context)

    def progress_view(self, request):
        self._require(request)
        return JsonResponse(retraining.job_progress(retraining.latest_job()))

    def _done(self, request, fn, success: str):
        try:
            result = fn()
        except retraining.RetrainRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, success % {"version": getattr(result, "version", "")})
        return redirect("admin:bot_modelversion_changelist")

    def retrain_view(self, request):
        if request.method != "POST":
            return redirect("admin:bot_modelversion_changelist")
        self._require(request, change=True)
        shadow = request.POST.get("shadow") == "1"
        return self._done(request, lambda: retraining.retrain_start(by=request.user, shadow=shadow), _("Retraining started."))

    def promote_view(self, request, pk: int):
        if request.method != "POST":
            return redirect("admin:bot_modelversion_changelist")
        self._require(request, change=True)
        version = get_object_or_404(ModelVersion, pk=pk)
        return self._done(request, lambda: retraining.version_promote(version=version, by=request.user), _("%(version)s serves now."))

    def rollback_view(self, request):
        if request.method != "POST":
            return redirect("admin:bot_modelversion_changelist")
        self._require(request, change=True)
        return self._done(request, lambda: retraining.version_rollback(by=request.user), _("Rolled back: %(version)s serves now."))

    def shadow_view(self, request, pk: int):
        if request.method != "POST":
            return redirect("admin:bot_modelversion_changelist")
        self._require(request, change=True)
        version = get_object_or_404(ModelVersion, pk=pk)
        return self._done(request, lambda: retraining.shadow_start(version=version), _("%(version)s runs in shadow now."))

    def shadow_stop_view(self, request):
        if request.method != "POST":
            return redirect("admin:bot_modelversion_changelist")
        self._require(request, change=True)
        return self._done(request, retraining.shadow_stop, _("The shadow run is stopped."))
