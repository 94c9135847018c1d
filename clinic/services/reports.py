"""Auditor reports of a model version: per-class metrics with CIs, confusion
matrix, ROC and reliability curves, from its evaluation set and, separately,
from the cases clinicians confirmed in the clinic; CSV export (audited)."""

from __future__ import annotations

import csv
import io
import logging
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from clinic.errors import UserFacingError
from clinic.models import AuditEvent, ConfirmedDiagnosis, ModelVersion, Result
from clinic.services.audit import audit_record
from clinic.services.jobs import failure_message, task_send_or_fail

logger = logging.getLogger(__name__)

PER_CLASS_METRICS = ("precision", "sensitivity", "specificity", "f1", "auc")
CONFIRMED_CLASSES = {
    ConfirmedDiagnosis.Diagnosis.HEALTHY: "healthy",
    ConfirmedDiagnosis.Diagnosis.MYOPATHY: "myopathy",
    ConfirmedDiagnosis.Diagnosis.NEUROPATHY: "neuropathy",
}


def _class_names(mv: ModelVersion) -> list[str]:
    return list((mv.metadata or {}).get("class_names") or CONFIRMED_CLASSES.values())


def roc_curves(
    y: np.ndarray, proba: np.ndarray, class_names: list[str]
) -> dict[str, Any]:
    """One-vs-rest ROC points per class (classes without both outcomes left out)."""
    from sklearn.metrics import roc_curve

    out = {}
    for k, name in enumerate(class_names):
        positive = y == k
        if positive.all() or not positive.any():
            continue
        fpr, tpr, _ = roc_curve(positive, proba[:, k])
        out[name] = {
            "fpr": [round(float(v), 5) for v in fpr],
            "tpr": [round(float(v), 5) for v in tpr],
        }
    return out


def evaluation_from_probabilities(
    y: np.ndarray, proba: np.ndarray, class_names: list[str], *, seed: int = 0
) -> dict[str, Any]:
    """Report with bootstrap CIs, ECE, reliability and ROC curves (emgcore.metrics)."""
    from emgcore.metrics import (
        expected_calibration_error,
        reliability_curve,
        report_with_ci,
    )

    return {
        "report": report_with_ci(
            y, proba, class_names, n_boot=settings.EMG_EVAL_N_BOOT, seed=seed
        ),
        "ece": expected_calibration_error(y, proba),
        "reliability": reliability_curve(y, proba),
        "roc": roc_curves(y, proba, class_names),
        "n": int(len(y)),
    }


# --------------------------------------------------------------------------
# Evaluation set
# --------------------------------------------------------------------------


def _stored_evaluation(mv: ModelVersion) -> dict[str, Any]:
    """What the checkpoint metadata says about its evaluation (may lack curves)."""
    from clinic.selectors import _per_class_report

    metrics = (mv.metadata or {}).get("metrics") or {}
    evaluation = metrics.get("evaluation") or {}
    level = metrics.get("evaluation_level")
    part = evaluation.get(level) if level else None
    report = (part or {}).get("report") or {}
    per_class = report.get("per_class") or _per_class_report(metrics)
    source = "checkpoint metadata"
    loso = metrics.get("n2001_loso") or {}
    if not report and loso.get("per_class") is per_class:
        # The default model: its leave-one-subject-out estimate on N2001.
        source += " (N2001 leave-one-subject-out)"
        level = "recording"
        report = {k: loso[k] for k in ("balanced_accuracy",) if k in loso}
        if isinstance(report.get("balanced_accuracy"), dict):
            report["balanced_accuracy"] = report["balanced_accuracy"].get("mean")
    return {
        "source": source,
        "level": level,
        "report": {**report, "per_class": per_class} if per_class else {},
        "reliability": (part or {}).get("reliability"),
        "ece": (part or {}).get("ece"),
        "roc": None,
        "n": report.get("n_samples") or (None if loso else metrics.get("n_val")),
    }


def model_version_evaluation_report(mv: ModelVersion) -> dict[str, Any]:
    """The card's evaluation as the checkpoint states it, and apart from it
    (``curves``) what an auditor's computation found, when there is one.

    The computed curves never replace the card's figures (issue 16): they come
    from running the model over recordings that need not be those of the
    card's evaluation, so the page, the CSV and the card keep one set of numbers.
    """
    evaluation = _stored_evaluation(mv)
    cached = (mv.report_cache or {}).get("evaluation")
    evaluation["curves"] = dict(cached) if cached else None
    return evaluation


def _evaluation_windows(mv: ModelVersion, meta: dict[str, Any]):
    """The windows this version was evaluated on, and which of them.

    A retrained candidate: its run's validation people. The default model:
    the validation split of ``emgcore.disease_model`` (same seed and budget).
    Anything else: a person-wise hold-out of the built-in datasets it names.
    """
    from clinic.models import RetrainingRun
    from clinic.services import training_data

    metrics = meta.get("metrics") or {}
    run_id = metrics.get("retraining_run")
    run = RetrainingRun.objects.filter(pk=run_id).first() if run_id else None
    seed = int(meta.get("seed") or 0)
    if run is not None:
        ws, _ = training_data.training_windows(run, meta)
        _, val = training_data.split_by_subject(ws, seed=run.seed)
        cap = max(3, settings.EMG_RETRAIN_MAX_WINDOWS // 4)
        return (
            ws,
            training_data.cap_windows(ws, val, cap, run.seed),
            "retraining validation",
        )
    name = (meta.get("dataset") or {}).get("name") or ""
    if name == "physionet_emgdb+emglab_n2001":
        from emgcore.disease import Budget
        from emgcore.disease_model import default_training_data

        budget = Budget(**((meta.get("train") or {}).get("budget") or {}))
        # At the model's own rate: without it the data came at 1 kHz for a
        # 4 kHz model (same 1000-sample windows, so nothing failed loudly).
        rate = float(meta.get("sfreq") or 1000.0)
        ws, _, val = default_training_data(
            settings.EMG_DATA_DIR, budget, seed, rate_hz=rate
        )
        return ws, val, "default-model validation split"
    from emgcore.config import PreprocessConfig
    from emgcore.datasets.base import WindowSet

    preprocess = PreprocessConfig.from_dict(meta["preprocess"])
    parts = [training_data.builtin_windows("physionet_emgdb", preprocess)]
    if "n2001" in name:
        parts.append(training_data.builtin_windows("emglab_n2001", preprocess))
    ws = WindowSet.concat(parts)
    _, val = training_data.split_by_subject(ws, seed=seed)
    return ws, val, "built-in hold-out"


#: Key of ``ModelVersion.report_cache`` that tracks the background computation.
REPORT_JOB = "evaluation_job"
REPORT_QUEUE_UNAVAILABLE = (
    "The curves could not be computed because the task queue is unavailable; "
    "ask again later."
)
REPORT_UNEXPECTED_ERROR = (
    "The computation failed unexpectedly; the worker log has the details."
)


def report_job(mv: ModelVersion) -> dict[str, Any]:
    """The state of the version's curve computation ({} when never asked)."""
    return dict((mv.report_cache or {}).get(REPORT_JOB) or {})


def _report_job_set(mv: ModelVersion, **fields: Any) -> None:
    """Update the job entry under a row lock, keeping the rest of the cache."""
    with transaction.atomic():
        row = ModelVersion.objects.select_for_update().get(pk=mv.pk)
        cache = dict(row.report_cache or {})
        cache[REPORT_JOB] = {**(cache.get(REPORT_JOB) or {}), **fields}
        row.report_cache = cache
        row.save(update_fields=["report_cache"])
    mv.report_cache = cache


def model_version_report_request(*, user, model_version: ModelVersion) -> ModelVersion:
    """Queue the evaluation-set curves on the training worker.

    Running the model over its evaluation recordings takes seconds to minutes,
    too long for a web request; the report page shows the job's state.
    """
    mv = model_version
    if report_job(mv).get("state") in ("queued", "running"):
        raise UserFacingError("The curves of this version are already being computed.")
    _report_job_set(
        mv,
        state="queued",
        requested_by=user.get_username(),
        requested_at=timezone.now().isoformat(),
        message="",
    )
    user_id = user.pk
    transaction.on_commit(lambda: _report_enqueue(mv.pk, user_id))
    return mv


def _report_enqueue(model_version_id: int, user_id: int) -> None:
    from clinic.tasks import model_report_compute_training_task

    def fail() -> None:
        _report_job_set(
            ModelVersion.objects.get(pk=model_version_id),
            state="failed",
            message=REPORT_QUEUE_UNAVAILABLE,
        )

    task_send_or_fail(
        lambda: model_report_compute_training_task.delay(model_version_id, user_id),
        fail,
        log=logger,
        what=f"Report of model version {model_version_id}",
    )


def model_version_report_run(*, model_version_id: int, user_id: int) -> None:
    """Task body: compute the curves, recording the outcome on the version.

    A failure becomes the job's message; the worker goes on, and the stored
    evaluation is left as it was.
    """
    mv = ModelVersion.objects.get(pk=model_version_id)
    user = get_user_model().objects.filter(pk=user_id).first()
    _report_job_set(mv, state="running", started_at=timezone.now().isoformat())
    try:
        model_version_report_compute(user=user, model_version=mv)
    except Exception as exc:
        state = "failed"
        message = failure_message(
            exc,
            (UserFacingError,),
            REPORT_UNEXPECTED_ERROR,
            log=logger,
            what=f"Report of model version {model_version_id}",
        )
    else:
        state, message = "done", ""
    _report_job_set(
        mv, state=state, message=message, finished_at=timezone.now().isoformat()
    )


def model_version_report_compute(*, user, model_version: ModelVersion) -> ModelVersion:
    """Evaluate the checkpoint on its evaluation set; cache curves on the version."""
    from clinic.services.analysis import model_version_checkpoint_verified
    from emgcore.checkpoint import load_checkpoint
    from emgcore.errors import EmgCoreError
    from emgcore.inference import window_probabilities
    from emgcore.metrics import aggregate_by_group, labels_by_group

    mv = model_version
    recorded = ((mv.metadata or {}).get("metrics") or {}).get("evaluation") or {}
    if isinstance(recorded.get("predictions"), dict):
        return _report_from_recorded(user, mv, recorded["predictions"])
    try:
        path = model_version_checkpoint_verified(mv)
        model, meta = load_checkpoint(path, expected_sha256=mv.sha256)
        meta = dict(meta)
        ws, idx, what = _evaluation_windows(mv, meta)
        if abs(float(ws.sfreq) - float(meta["sfreq"])) > 1e-6 or (
            ws.n_times != meta["n_times"]
        ):
            raise UserFacingError(
                f"The evaluation data come at {ws.sfreq:g} Hz in windows of "
                f"{ws.n_times} samples, but {mv} reads {meta['sfreq']:g} Hz in "
                f"windows of {meta['n_times']}; no curves were computed."
            )
        names = list(meta["class_names"])
        if list(ws.class_names) != names:
            raise UserFacingError(
                f"The evaluation data's classes {list(ws.class_names)} differ from "
                f"the model's {names}."
            )
        sub = ws.subset(idx)
        temperature = float((meta.get("metrics") or {}).get("temperature") or 1.0)
        proba = window_probabilities(model, sub.X, temperature=temperature)
    except EmgCoreError as exc:
        raise UserFacingError(str(exc)) from exc
    several = len(np.unique(sub.recording_ids)) > len(names)
    if several:
        _, proba = aggregate_by_group(proba, sub.recording_ids)
        _, y = labels_by_group(sub.y, sub.recording_ids)
        level = "recording"
    else:
        y, level = sub.y, "window"
    evaluation = evaluation_from_probabilities(np.asarray(y), np.asarray(proba), names)
    evaluation.update(level=level, evaluation_set=what)
    return _evaluation_keep(user, mv, evaluation, what)


def _evaluation_keep(
    user, mv: ModelVersion, evaluation: dict[str, Any], what: str
) -> ModelVersion:
    """Cache the evaluation on the version and audit that it was computed."""
    mv.report_cache = {**(mv.report_cache or {}), "evaluation": evaluation}
    mv.save(update_fields=["report_cache"])
    audit_record(
        actor=user,
        action=AuditEvent.Action.REPORT_COMPUTED,
        obj=mv,
        details={"report": "evaluation computed", "set": what, "n": evaluation["n"]},
    )
    return mv


def _report_from_recorded(user, mv: ModelVersion, rec: dict[str, Any]) -> ModelVersion:
    """Curves from the out-of-fold predictions the checkpoint recorded.

    A cross-validated model (the shipped one) was evaluated by models that did
    not see each person; running the released weights on those recordings
    would score data they were fitted on. Its metadata keeps the out-of-fold
    predictions instead, and the curves are drawn from them.
    """
    names = _class_names(mv)
    evaluation = evaluation_from_probabilities(
        np.asarray(rec["y"], dtype=np.int64), np.asarray(rec["proba"]), names
    )
    what = str(rec.get("description") or "recorded out-of-fold predictions")
    evaluation.update(level=str(rec.get("level") or "recording"), evaluation_set=what)
    return _evaluation_keep(user, mv, evaluation, what)


# --------------------------------------------------------------------------
# Confirmed cases in the clinic
# --------------------------------------------------------------------------


def confirmed_cases(mv: ModelVersion) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Labels and stored probabilities of this version's results whose upload
    has a confirmed diagnosis of one of its classes (the latest confirmation
    counts)."""
    names = _class_names(mv)
    latest = ConfirmedDiagnosis.objects.filter(upload=OuterRef("job__upload")).order_by(
        "-confirmed_at", "-id"
    )
    rows = (
        # A not-analysable result holds no prediction to evaluate.
        Result.objects.filter(model_version=mv, probabilities__isnull=False)
        .annotate(confirmed=Subquery(latest.values("diagnosis")[:1]))
        .exclude(confirmed__isnull=True)
        .values_list("confirmed", "probabilities")
    )
    y, proba = [], []
    for diagnosis, probabilities in rows:
        label = CONFIRMED_CLASSES.get(diagnosis)
        if label not in names:
            continue  # "other" diagnoses are outside the model's classes
        p = np.array([float(probabilities.get(c, 0.0)) for c in names])
        if p.sum() <= 0:
            continue
        y.append(names.index(label))
        proba.append(p / p.sum())
    if not y:
        return np.zeros(0, np.int64), np.zeros((0, len(names))), names
    return np.asarray(y, np.int64), np.vstack(proba), names


def model_version_confirmed_report(mv: ModelVersion) -> dict[str, Any]:
    """Metrics on clinician-confirmed cases; says when there are too few."""
    y, proba, names = confirmed_cases(mv)
    n = int(len(y))
    minimum = settings.EMG_REPORT_MIN_CASES
    out: dict[str, Any] = {
        "n": n,
        "minimum": minimum,
        "too_few": n < minimum,
        "per_class_n": {c: int(np.sum(y == k)) for k, c in enumerate(names)},
    }
    if n >= 2:
        out.update(evaluation_from_probabilities(y, proba, names))
    return out


# --------------------------------------------------------------------------
# CSV export
# --------------------------------------------------------------------------


def _csv_rows(source: str, evaluation: dict[str, Any]) -> list[list[Any]]:
    report = evaluation.get("report") or {}
    rows = []
    for cls, pc in (report.get("per_class") or {}).items():
        for metric in PER_CLASS_METRICS:
            if metric not in pc:
                continue
            ci = pc.get(f"{metric}_ci") or [None, None]
            rows.append(
                [source, cls, metric, pc.get(metric), ci[0], ci[1], pc.get("support")]
            )
    for metric in ("accuracy", "balanced_accuracy"):
        if report.get(metric) is not None:
            ci = report.get(f"{metric}_ci") or [None, None]
            rows.append(
                [
                    source,
                    "all",
                    metric,
                    report[metric],
                    ci[0],
                    ci[1],
                    evaluation.get("n"),
                ]
            )
    if evaluation.get("ece") is not None:
        rows.append(
            [source, "all", "ece", evaluation["ece"], None, None, evaluation.get("n")]
        )
    return rows


def model_version_report_export(*, user, model_version: ModelVersion) -> str:
    """The report as CSV (evaluation set and confirmed cases); audited."""
    mv = model_version
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["# model", mv.name, mv.version, mv.sha256])
    writer.writerow(["source", "class", "metric", "value", "ci_low", "ci_high", "n"])
    evaluation = model_version_evaluation_report(mv)
    confirmed = model_version_confirmed_report(mv)
    rows = _csv_rows("evaluation", evaluation) + _csv_rows("confirmed_cases", confirmed)
    rows.append(["confirmed_cases", "all", "n_cases", confirmed["n"], None, None, None])
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    audit_record(
        actor=user,
        action=AuditEvent.Action.EXPORTED,
        obj=mv,
        details={"report": "model", "format": "csv", "confirmed_cases": confirmed["n"]},
    )
    return buf.getvalue()


def model_version_report(*, user, model_version: ModelVersion) -> dict[str, Any]:
    """Both halves of the report for the page; the view is audited."""
    report = {
        "evaluation": model_version_evaluation_report(model_version),
        "confirmed": model_version_confirmed_report(model_version),
    }
    audit_record(
        actor=user,
        action=AuditEvent.Action.VIEWED,
        obj=model_version,
        details={"report": "model", "confirmed_cases": report["confirmed"]["n"]},
    )
    return report
