"""The app runs the shipped disease model on an upload of each clinical collection."""

from __future__ import annotations

import shutil

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from clinic.models import AnalysisJob, Result, Upload
from clinic.services import analysis_run, model_version_register, upload_create
from tests.clinic.factories import make_user
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped_model(model_dir):
    """models/disease/default.pt, copied into the model folder and activated
    through the promotion gate (no override), as `make run` does."""
    for name in ("default.pt", "default.pt.sha256", "default.md"):
        shutil.copy(REPO_ROOT / "models" / "disease" / name, model_dir / name)
    mv = model_version_register(checkpoint_path=model_dir / "default.pt", activate=True)
    assert mv.is_active and not mv.activation_note
    return mv


@pytest.mark.parametrize(
    "folder, record, data_suffix, muscle",
    [
        ("emglab-n2001-wfdb", "N2001C01BB51", ".bin", "biceps brachii"),
        ("needle-emg-mendeley", "NEU01_RD_151", ".dat", "deltoid"),
    ],
)
def test_an_upload_of_each_clinical_set_gets_a_result_with_qemg_and_expectations(
    client, data_dir, shipped_model, folder, record, data_suffix, muscle
):
    files = [
        SimpleUploadedFile(record + s, (data_dir / folder / (record + s)).read_bytes())
        for s in (".hea", data_suffix)
    ]
    user = make_user("clinician")
    job = upload_create(
        user=user,
        files=files,
        patient_code="P-77",
        muscle=muscle,
        side=Upload.Side.LEFT,
        electrode_type=Upload.ElectrodeType.NEEDLE,
    )
    analysis_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == AnalysisJob.Status.SUCCEEDED, job.error_message
    result = Result.objects.get(job=job)
    assert result.model_version == shipped_model
    assert result.label in ("healthy", "myopathy", "neuropathy", "inconclusive")
    assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
    assert result.features["qemg"]["rows"]
    client.force_login(user)
    html = client.get(f"/jobs/{job.pk}/result/").content.decode()
    # The one-recording figures of people never seen, in words, and the
    # notice that this very recording was in the training data.
    assert "On people it has not seen" in html
    assert "one of this model's training recordings" in html


def test_the_auditors_curves_come_from_its_recorded_out_of_fold_predictions(
    shipped_model, monkeypatch
):
    # Running the released weights on its own training recordings would score
    # data it was fitted on; the curves use the recorded fold predictions.
    from clinic.services import reports

    def no_model_run(*args, **kwargs):
        raise AssertionError("the checkpoint must not be run for these curves")

    monkeypatch.setattr("emgcore.inference.window_probabilities", no_model_run)
    user = make_user("auditor")
    mv = reports.model_version_report_compute(user=user, model_version=shipped_model)
    evaluation = mv.report_cache["evaluation"]
    assert evaluation["n"] == 455 and evaluation["level"] == "recording"
    assert "trained without its person" in evaluation["evaluation_set"]
    assert set(evaluation["roc"]) == {"healthy", "myopathy", "neuropathy"}
    card = shipped_model.metadata["metrics"]["evaluation"]
    # Seed 0 of the three the card averages: close to, not equal to, its figure.
    ba = evaluation["report"]["balanced_accuracy"]
    ba = ba["value"] if isinstance(ba, dict) else ba
    assert abs(ba - card["balanced_accuracy"]) < 0.05


def test_the_retired_4_khz_model_is_evaluated_at_4_khz(model_dir, settings, data_dir):
    # The auditor's curves once fed this model 1 kHz data in windows of the same
    # 1000 samples (issue 16): the evaluation windows come at the model's rate.
    from clinic.services import reports
    from emgcore.checkpoint import load_checkpoint

    settings.EMG_DATA_DIR = data_dir
    retired = REPO_ROOT / "models" / "disease" / "retired"
    for suffix in (".pt", ".pt.sha256"):
        shutil.copy(retired / f"cnn_tcn_2026-11-22{suffix}", model_dir)
    mv = model_version_register(checkpoint_path=model_dir / "cnn_tcn_2026-11-22.pt")
    _, meta = load_checkpoint(model_dir / "cnn_tcn_2026-11-22.pt")
    assert meta["sfreq"] == 4000.0
    ws, idx, what = reports._evaluation_windows(mv, dict(meta))
    assert ws.sfreq == 4000.0 and ws.n_times == meta["n_times"] and len(idx)
    assert what == "default-model validation split"
