"""Retraining the intent model on the shop's own labels, judged by a gate, served without a restart.

    job = retrain_start(by=user)          # refused while another runs; the task runs retrain_run
    retrain_run(job_id=job.pk)            # data -> train -> export -> evaluate -> gate (bot.tasks.retrain)
    version_promote(version=v, by=user)   # one click in the admin; rollback: version_rollback(by=user)

Every model is a bot.models.ModelVersion. The shipped artifact is the baseline version,
registered lazily. A candidate is trained into a work folder under ASSISTANT_DATA_DIR/models/,
moved to ASSISTANT_DATA_DIR/models/<version>/ once complete, and only then registered: a worker
killed mid-training leaves the serving model untouched, and the next start marks its job stale.

The gate (gate_decide, pure) compares the candidate with the serving model on the frozen guard
sets (GUARD_SETS: the shipped test split and the independent shopper set) and on the share of
the shop's labels held out of training (dataset.agent_label_held_out): it passes only if the
candidate is no worse than the serving model on every guard set, within
settings.RETRAIN_GUARD_TOLERANCE (0.005 = half a point of accuracy), and strictly better on the
shop's held-out labels.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable, Iterator

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ModelVersion, RetrainJob, TrainingExample

logger = logging.getLogger(__name__)

LOCK_KEY = "retrain:lock"
HEARTBEAT_SECONDS = 10.0
PROGRESS_WRITE_SECONDS = 1.0
# The share of the progress bar each stage fills (training takes nearly all the time).
STAGE_SPAN = {"data": (0, 5), "train": (5, 85), "export": (85, 90), "evaluate": (90, 95), "gate": (95, 100)}


class RetrainRefused(Exception):
    """A retraining, promotion or rollback that is not allowed now; the message says why."""


# --- Where versions live ------------------------------------------------------------------------


def models_dir() -> Path:
    return Path(settings.ASSISTANT_DATA_DIR) / "models"


def version_artifact_dir(version: ModelVersion) -> Path:
    """The folder a version is served from (the baseline: the shipped artifact)."""
    if version.is_baseline or not version.path:
        return Path(settings.SLM_ARTIFACT_DIR)
    return Path(settings.ASSISTANT_DATA_DIR) / version.path


def baseline_version() -> ModelVersion:
    """The shipped artifact as a version, registered on first use; it serves until another is promoted."""
    import json

    config = json.loads((Path(settings.SLM_ARTIFACT_DIR) / "config.json").read_text(encoding="utf-8"))
    name = str(config.get("version", "shipped"))
    existing = ModelVersion.objects.filter(version=name).first()
    if existing is not None:
        return existing
    status = ModelVersion.Status.RETIRED if ModelVersion.objects.filter(status=ModelVersion.Status.SERVING).exists() else ModelVersion.Status.SERVING
    try:
        with transaction.atomic():
            return ModelVersion.objects.create(
                version=name, is_baseline=True, status=status, gate_reason=_("The shipped model."),
                created_at=timezone.now(), report={"shipped": True},
            )
    except IntegrityError:  # another process registered it (or a serving row) at the same moment
        return ModelVersion.objects.filter(version=name).first() or baseline_version()


def serving_version() -> ModelVersion:
    return ModelVersion.objects.filter(status=ModelVersion.Status.SERVING).first() or baseline_version()


# --- The guard sets and the shop's held-out labels ----------------------------------------------


@dataclass(frozen=True)
class GuardSet:
    name: str
    label: str
    load: Callable[[], list]  # -> list[bot.training.dataset.Example]


def _shipped_test_split() -> list:
    from .training import dataset as ds

    return ds.read_jsonl(Path(settings.SLM_ARTIFACT_DIR) / "test.jsonl")


def _shopper_set() -> list:
    from .training import dataset as ds

    return ds.load_eval_shoppers()


# One row per frozen guard set: a candidate must be no worse than the serving model on each.
GUARD_SETS = (
    GuardSet("test_split", "shipped test split (bot/slm_artifact/test.jsonl)", _shipped_test_split),
    GuardSet("shoppers", "shopper set (bot/data/eval_shoppers.yaml)", _shopper_set),
)
SHOP_SET = "shop_labels"


def shop_held_out_labels() -> list:
    """The share of the shop's labels (TrainingExample rows) that no retraining trains on."""
    import json

    from .slm import RETRAINED_LANGUAGE
    from .training import dataset as ds

    labels = json.loads((Path(settings.SLM_ARTIFACT_DIR) / "labels.json").read_text(encoding="utf-8"))
    return ds.load_agent_labelled(labels, language=RETRAINED_LANGUAGE, holdout_percent=settings.RETRAIN_HOLDOUT_PERCENT, held_out=True)


def accuracy_on(classifier, examples: list) -> dict:
    """Accuracy of the intent the bot acts on (the calibrated threshold applied)."""
    if not examples:
        return {"n": 0, "correct": 0, "accuracy": None}
    from .training.metrics import acted

    probs = classifier.probabilities([ex.text for ex in examples])
    predicted = acted(classifier.labels, probs, classifier.threshold)
    correct = sum(p == ex.intent for p, ex in zip(predicted, examples))
    return {"n": len(examples), "correct": int(correct), "accuracy": correct / len(examples)}


def figures(artifact_dir: Path, sets: dict[str, list]) -> dict[str, dict]:
    from .slm.classifier import IntentClassifier

    classifier = IntentClassifier(artifact_dir, threads=settings.RETRAIN_THREADS)
    return {name: accuracy_on(classifier, examples) for name, examples in sets.items()}


def _points(value: float) -> str:
    return f"{value * 100:.1f}"


def gate_decide(*, candidate: dict[str, dict], serving: dict[str, dict], tolerance: float) -> tuple[bool, str]:
    """The gate's decision and its reason, stored once and read by every staff member: written
    in the shop's default language, whatever language the calling thread has active."""
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        return _gate_decide(candidate=candidate, serving=serving, tolerance=tolerance)


def _gate_decide(*, candidate: dict[str, dict], serving: dict[str, dict], tolerance: float) -> tuple[bool, str]:
    """(passed, reason): no worse than serving on every guard set (within `tolerance`), better on the shop's labels.

    `candidate` and `serving` map each set's name (GUARD_SETS' names and SHOP_SET) to {"n", "accuracy"}.
    """
    worse = []
    for guard in GUARD_SETS:
        new, old = candidate[guard.name]["accuracy"], serving[guard.name]["accuracy"]
        if new is None or old is None:
            return False, _("The guard set %(name)s could not be measured.") % {"name": guard.name}
        if new < old - tolerance - 1e-12:
            worse.append(
                _("%(name)s: %(new)s%% against %(old)s%%") % {"name": guard.label, "new": _points(new), "old": _points(old)}
            )
    if worse:
        return False, _("Worse than the serving model by more than %(tolerance)s points on: %(sets)s.") % {
            "tolerance": _points(tolerance), "sets": "; ".join(worse),
        }
    shop_new, shop_old = candidate[SHOP_SET], serving[SHOP_SET]
    if not shop_new["n"]:
        return False, _("No held-out shop labels to judge it on yet: label more messages.")
    if shop_new["accuracy"] <= shop_old["accuracy"]:
        return False, _("Not better on the shop's held-out labels: %(new)s%% against %(old)s%% (%(n)s labels).") % {
            "new": _points(shop_new["accuracy"]), "old": _points(shop_old["accuracy"]), "n": shop_new["n"],
        }
    return True, _(
        "No worse on every guard set (within %(tolerance)s points) and better on the shop's held-out labels: "
        "%(new)s%% against %(old)s%% (%(n)s labels)."
    ) % {"tolerance": _points(tolerance), "new": _points(shop_new["accuracy"]), "old": _points(shop_old["accuracy"]), "n": shop_new["n"]}


# --- Starting a job: one at a time ---------------------------------------------------------------


def _stale_before():
    return timezone.now() - timedelta(seconds=settings.RETRAIN_STALE_SECONDS)


def jobs_mark_stale() -> int:
    """Running jobs whose worker stopped beating (killed mid-training) become STALE; their work
    folders go. The serving model was never touched by them."""
    stale = list(RetrainJob.objects.filter(status=RetrainJob.Status.RUNNING, heartbeat_at__lt=_stale_before()).values_list("pk", flat=True))
    for pk in stale:
        RetrainJob.objects.filter(pk=pk, status=RetrainJob.Status.RUNNING).update(
            status=RetrainJob.Status.STALE, finished_at=timezone.now(),
            message=_("The worker stopped during this run (no sign of life for %(seconds)s s); the serving model was not changed.")
            % {"seconds": settings.RETRAIN_STALE_SECONDS},
        )
        shutil.rmtree(models_dir() / f".work-{pk}", ignore_errors=True)
        if cache.get(LOCK_KEY) == pk:
            cache.delete(LOCK_KEY)
    return len(stale)


def _refused(running: RetrainJob | None) -> RetrainRefused:
    if running is None:
        return RetrainRefused(_("A retraining is already running; wait for it to finish."))
    return RetrainRefused(
        _("A retraining is already running (#%(id)s, started %(started)s, %(percent)s%% done); wait for it to finish.")
        % {"id": running.pk, "started": timezone.localtime(running.started_at).strftime("%Y-%m-%d %H:%M"), "percent": int(running.percent)}
    )


def retrain_start(*, by=None, shadow: bool = False, trigger: str = "admin") -> RetrainJob:
    """Create the job row and enqueue the task after commit; RetrainRefused while another runs."""
    jobs_mark_stale()
    baseline_version()
    running = RetrainJob.objects.filter(status=RetrainJob.Status.RUNNING).first()
    if running is not None:
        raise _refused(running)
    # The shared lock (Redis in production) stops two starts before either row is written; the
    # partial unique constraint on RUNNING is the guarantee, across processes and machines.
    token = f"starting-{time.time_ns()}"
    if not cache.add(LOCK_KEY, token, timeout=settings.RETRAIN_STALE_SECONDS):
        holder = cache.get(LOCK_KEY)
        if isinstance(holder, int) and not RetrainJob.objects.filter(pk=holder, status=RetrainJob.Status.RUNNING).exists():
            cache.delete(LOCK_KEY)  # its job finished or went stale without releasing it
            if not cache.add(LOCK_KEY, token, timeout=settings.RETRAIN_STALE_SECONDS):
                raise _refused(None)
        else:
            raise _refused(None)
    try:
        with transaction.atomic():
            job = RetrainJob.objects.create(started_by=by, shadow=shadow, trigger=trigger, message=_("Waiting for a worker."))
            cache.set(LOCK_KEY, job.pk, timeout=settings.RETRAIN_STALE_SECONDS)
            transaction.on_commit(lambda: _enqueue(job.pk))
    except IntegrityError:
        cache.delete(LOCK_KEY)
        raise _refused(RetrainJob.objects.filter(status=RetrainJob.Status.RUNNING).first()) from None
    return job


def _enqueue(job_id: int) -> None:
    """By the task's name: bot.tasks imports this module, so this module does not import it back.

    Without a broker (the embedded default runs tasks eagerly, in the caller) the job runs in a
    thread of this process instead, so that the admin's request returns and the bar can move.
    """
    from celery import current_app

    if settings.CELERY_TASK_ALWAYS_EAGER:
        threading.Thread(target=_run_in_thread, args=(job_id,), name=f"retrain-{job_id}", daemon=True).start()
        return
    try:
        current_app.tasks["bot.tasks.retrain"].delay(job_id)
    except Exception:  # noqa: BLE001 — a broker outage: the job goes stale and the next start says so
        logger.exception("could not enqueue retraining job %s", job_id)


def _run_in_thread(job_id: int) -> None:
    try:
        retrain_run(job_id=job_id)
    finally:
        close_old_connections()


def _english_labels(rows) -> Iterator[bool]:
    """For each TrainingExample row, whether the English classifier reads its message (and so
    retraining learns it): the language the serving code would pick for it."""
    from bot.slm import RETRAINED_LANGUAGE, classifier_language

    for text, language in rows.values_list("text", "conversation__language").iterator():
        yield classifier_language(text or "", language) == RETRAINED_LANGUAGE


def _english_labels_since(when) -> bool:
    """Whether an agent labelled (or labelled again) a message the English classifier reads since `when`."""
    return any(_english_labels(TrainingExample.objects.filter(labelled_at__gt=when)))


def retrain_scheduled() -> RetrainJob | None:
    """The shop's schedule (Celery beat): retrain when labels the English model learns came in (or
    were changed) since the last run; never a second one."""
    last = RetrainJob.objects.exclude(status=RetrainJob.Status.RUNNING).order_by("-started_at").first()
    if last is not None and not _english_labels_since(last.started_at):
        logger.info("scheduled retraining skipped: no new labels of English messages since job %s", last.pk)
        return None
    try:
        return retrain_start(shadow=settings.RETRAIN_SHADOW, trigger="schedule")
    except RetrainRefused as refused:
        logger.info("scheduled retraining skipped: %s", refused)
        return None


# --- Running a job ----------------------------------------------------------------------------------


class _Progress:
    """Stores the trainer's progress in the job row (at most every PROGRESS_WRITE_SECONDS), and
    beats from a thread of its own so that long silent steps (export, evaluation) are not taken for death."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.written = 0.0
        self.stage = ""
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"retrain-{job_id}-heartbeat", daemon=True)

    def _beat(self) -> None:
        try:
            while not self.stop.wait(HEARTBEAT_SECONDS):
                RetrainJob.objects.filter(pk=self.job_id, status=RetrainJob.Status.RUNNING).update(heartbeat_at=timezone.now())
                cache.touch(LOCK_KEY, settings.RETRAIN_STALE_SECONDS)
        finally:
            close_old_connections()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=HEARTBEAT_SECONDS + 5)

    def __call__(self, stage: str, done: int = 0, total: int = 1, *, epochs: int = 0, force: bool = False, message: str = "") -> None:
        now = time.monotonic()
        if not force and stage == self.stage and 0 < done < total and now - self.written < PROGRESS_WRITE_SECONDS:
            return
        self.written, self.stage = now, stage
        low, high = STAGE_SPAN.get(stage, (0, 100))
        percent = low + (high - low) * (done / total if total else 0)
        fields = {"stage": stage, "percent": round(percent, 1), "heartbeat_at": timezone.now()}
        if stage == "train" and epochs and total:
            fields["epoch"] = epochs if done >= total else done * epochs // total + 1
            fields["epochs"] = epochs
        if not message and stage in RetrainJob.Stage.values:
            message = str(RetrainJob.Stage(stage).label)
        fields["message"] = message
        updated = RetrainJob.objects.filter(pk=self.job_id, status=RetrainJob.Status.RUNNING).update(**fields)
        if not updated:
            # The job was marked stale by another start while this worker still ran: stop here.
            raise RetrainRefused(_("This retraining job is no longer running."))


def training_config(output: Path):
    from .training.trainer import TrainConfig

    return TrainConfig(
        output=output,
        shared_dir=Path(settings.SHARED_DIR),
        epochs=settings.RETRAIN_EPOCHS,
        layers=settings.RETRAIN_LAYERS,
        max_per_intent=settings.RETRAIN_MAX_PER_INTENT or None,
        max_length=settings.RETRAIN_MAX_LENGTH,
        learning_rate=settings.RETRAIN_LEARNING_RATE,
        head_learning_rate=settings.RETRAIN_HEAD_LEARNING_RATE,
        batch_size=settings.RETRAIN_BATCH_SIZE,
        threads=settings.RETRAIN_THREADS,
        keep_torch=False,
        evaluate=settings.RETRAIN_FULL_REPORT,
        agent_holdout_percent=settings.RETRAIN_HOLDOUT_PERCENT,
    )


def retrain_run(*, job_id: int) -> ModelVersion | None:
    """The task's body: train a candidate, judge it, register it, promote it (or put it in shadow)
    if it passes. Any failure marks the job failed and leaves the serving model as it was."""
    job = RetrainJob.objects.filter(pk=job_id).first()
    if job is None or job.status != RetrainJob.Status.RUNNING:
        logger.warning("retraining job %s is not running (%s); nothing to do", job_id, job and job.status)
        return None
    work = models_dir() / f".work-{job_id}"
    progress = _Progress(job_id)
    try:
        with progress:
            candidate = _train_and_judge(job, work, progress)
    except Exception as exc:  # noqa: BLE001 — whatever broke, the job says so and serving is untouched
        logger.exception("retraining job %s failed", job_id)
        RetrainJob.objects.filter(pk=job_id, status=RetrainJob.Status.RUNNING).update(
            status=RetrainJob.Status.FAILED, finished_at=timezone.now(),
            message=_("Failed: %(error)s. The serving model was not changed.") % {"error": str(exc)[:500] or type(exc).__name__},
        )
        return None
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if cache.get(LOCK_KEY) == job_id:
            cache.delete(LOCK_KEY)
    return candidate


def _train_and_judge(job: RetrainJob, work: Path, progress: _Progress) -> ModelVersion:
    import json

    from .training import missing_training_stack

    missing = missing_training_stack()
    if missing:
        raise RuntimeError(_("the training stack is not installed (%(missing)s): run bin/setup --train") % {"missing": ", ".join(missing)})
    from .training.trainer import train

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    config = training_config(work)
    serving_dir = str(version_artifact_dir(serving_version()))
    if settings.RETRAIN_DISTILL:
        config.teacher = serving_dir
        config.distill_weight = settings.RETRAIN_DISTILL_WEIGHT
    if settings.RETRAIN_WARM_START:
        # From the serving network itself: rehearsal, a gentler rate, and (distilling) its readings
        # as the target of every example but the agents' labels. When the trainer cannot read it
        # back (a 4-bit graph, another tokenizer), the run is the base model's whole recipe.
        config.init_from = serving_dir
        config.replay, config.agent_repeat = settings.RETRAIN_REPLAY, settings.RETRAIN_AGENT_REPEAT
        config.warm_learning_rate = settings.RETRAIN_WARM_LEARNING_RATE
        config.warm_freeze = settings.RETRAIN_WARM_FREEZE
        if settings.RETRAIN_DISTILL:
            config.warm_distill_weight = settings.RETRAIN_WARM_DISTILL_WEIGHT
    labels_seen = sum(_english_labels(TrainingExample.objects.all()))  # the labels this (English) retraining reads
    RetrainJob.objects.filter(pk=job.pk).update(labels_seen=labels_seen, epochs=config.epochs)
    progress("data", force=True)
    artifact = train(
        config, log=lambda line: logger.info("retraining job %s: %s", job.pk, line), progress=False,
        on_progress=lambda stage, done, total: progress(stage, done, total, epochs=config.epochs),
    )

    progress("gate", force=True)
    serving = serving_version()
    sets = {guard.name: guard.load() for guard in GUARD_SETS}
    sets[SHOP_SET] = shop_held_out_labels()
    new = figures(artifact, sets)
    old = figures(version_artifact_dir(serving), sets)
    tolerance = settings.RETRAIN_GUARD_TOLERANCE
    passed, reason = gate_decide(candidate=new, serving=old, tolerance=tolerance)
    version_name = json.loads((artifact / "config.json").read_text(encoding="utf-8"))["version"]
    if ModelVersion.objects.filter(version=version_name).exists():
        version_name = f"{version_name}-{job.pk}"
    report = {
        "candidate": new, "serving": {"version": serving.version, **old}, "tolerance": tolerance,
        "holdout_percent": settings.RETRAIN_HOLDOUT_PERCENT, "labels_seen": labels_seen, "job": job.pk,
        "guard_sets": {guard.name: guard.label for guard in GUARD_SETS},
    }
    full = artifact / "report.json"
    if full.exists():
        report["full"] = {k: v for k, v in json.loads(full.read_text(encoding="utf-8")).items() if k in ("test", "eval_shoppers", "clinc_oos_val_recall", "train_seconds", "total_seconds")}
        report["full"]["test"] = {k: report["full"]["test"][k] for k in ("accuracy", "macro_f1")}
        report["full"]["eval_shoppers"] = {k: report["full"]["eval_shoppers"][k] for k in ("accuracy", "macro_f1")}

    # The candidate's folder is complete before any row points at it.
    target = models_dir() / version_name
    shutil.rmtree(target, ignore_errors=True)
    artifact.rename(target)
    with transaction.atomic():
        candidate = ModelVersion.objects.create(
            version=version_name, path=str(target.relative_to(settings.ASSISTANT_DATA_DIR)),
            status=ModelVersion.Status.CANDIDATE if passed else ModelVersion.Status.FAILED,
            report=report, gate_passed=passed, gate_reason=reason,
        )
        RetrainJob.objects.filter(pk=job.pk).update(candidate=candidate)
    if passed and job.shadow:
        shadow_start(version=candidate)
        outcome = _("Passed the gate; running in shadow.")
    elif passed:
        version_promote(version=candidate, by=job.started_by)
        outcome = _("Passed the gate; promoted.")
    else:
        outcome = _("Kept, not promoted.")
    RetrainJob.objects.filter(pk=job.pk, status=RetrainJob.Status.RUNNING).update(
        status=RetrainJob.Status.SUCCEEDED, stage=RetrainJob.Stage.DONE, percent=100.0, finished_at=timezone.now(),
        message=f"{outcome} {reason}",
    )
    candidate.refresh_from_db()
    return candidate


# --- Promotion, rollback, shadow ----------------------------------------------------------------------


def _after_change() -> None:
    """This process sees the change at once; the others within SLM_VERSION_CHECK_SECONDS."""
    from .slm.serving import stamps_forget

    stamps_forget()


def version_promote(*, version: ModelVersion, by=None, rollback: bool = False) -> ModelVersion:
    """Serve `version` from now on (every process, without a restart); the serving one retires
    and is remembered as what a rollback goes back to (not when this is itself a rollback)."""
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().get(pk=version.pk)
        if version.status == ModelVersion.Status.SERVING:
            return version
        if version.gate_passed is False:
            raise RetrainRefused(_("%(version)s failed the gate and cannot be promoted: %(reason)s") % {"version": version.version, "reason": version.gate_reason})
        if not (version_artifact_dir(version) / "model.onnx").exists():
            raise RetrainRefused(_("The files of %(version)s are missing; it cannot serve.") % {"version": version.version})
        baseline_version()
        previous = ModelVersion.objects.select_for_update().filter(status=ModelVersion.Status.SERVING).first()
        ModelVersion.objects.filter(status=ModelVersion.Status.SERVING).update(status=ModelVersion.Status.RETIRED)
        version.status = ModelVersion.Status.SERVING
        version.promoted_at = timezone.now()
        version.promoted_by = by if by is not None and getattr(by, "pk", None) else None
        fields = ["status", "promoted_at", "promoted_by"]
        if not rollback and previous is not None:
            version.replaced = previous
            fields.append("replaced")
        version.save(update_fields=fields)
        transaction.on_commit(_after_change)
    return version


def version_rollback(*, by=None) -> ModelVersion:
    """Serve again the version that served before the current one (the baseline if none did)."""
    current = serving_version()
    previous = current.replaced
    if previous is None and not current.is_baseline:
        previous = baseline_version()
    if previous is None or previous.pk == current.pk:
        raise RetrainRefused(_("No earlier version to roll back to: %(version)s is the first that served.") % {"version": current.version})
    return version_promote(version=previous, by=by, rollback=True)


def shadow_start(*, version: ModelVersion) -> ModelVersion:
    """Let `version` classify live messages silently beside the serving model (one at a time)."""
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().get(pk=version.pk)
        if version.status not in (ModelVersion.Status.CANDIDATE, ModelVersion.Status.RETIRED, ModelVersion.Status.SHADOW):
            raise RetrainRefused(_("Only a candidate or a retired version can run in shadow."))
        ModelVersion.objects.filter(status=ModelVersion.Status.SHADOW).exclude(pk=version.pk).update(status=ModelVersion.Status.CANDIDATE)
        version.status = ModelVersion.Status.SHADOW
        version.save(update_fields=["status"])
        transaction.on_commit(_after_change)
    return version


def shadow_stop() -> int:
    with transaction.atomic():
        stopped = ModelVersion.objects.filter(status=ModelVersion.Status.SHADOW).update(status=ModelVersion.Status.CANDIDATE)
        transaction.on_commit(_after_change)
    return stopped


def shadow_record(*, version_id: int, agreed: bool) -> None:
    from django.db.models import F

    ModelVersion.objects.filter(pk=version_id).update(
        shadow_messages=F("shadow_messages") + 1, shadow_agreements=F("shadow_agreements") + (1 if agreed else 0)
    )


# --- Reads for the admin page ----------------------------------------------------------------------


def job_progress(job: RetrainJob | None) -> dict:
    """The progress bar's JSON (the admin polls it)."""
    if job is None:
        return {"job": None}
    stale = job.status == RetrainJob.Status.RUNNING and job.heartbeat_at < _stale_before()
    return {
        "job": job.pk,
        "status": job.status,
        "status_label": str(job.get_status_display()),
        "stage": job.stage,
        "stage_label": str(job.get_stage_display()),
        "epoch": job.epoch,
        "epochs": job.epochs,
        "epoch_label": _("epoch %(epoch)s/%(epochs)s") % {"epoch": job.epoch, "epochs": job.epochs},
        "percent": job.percent,
        "message": job.message,
        "running": job.status == RetrainJob.Status.RUNNING and not stale,
        "stale": stale,
        "candidate": job.candidate.version if job.candidate_id else None,
    }


def latest_job() -> RetrainJob | None:
    return RetrainJob.objects.select_related("candidate").order_by("-started_at", "-pk").first()
