from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from rest_framework.authtoken.models import Token

from clinic.models import ModelVersion
from tests.clinic.factories import make_user

pytestmark = pytest.mark.django_db


def _demo_passwords() -> dict[str, str]:
    out = StringIO()
    call_command("create_demo_users", stdout=out)
    rows = re.findall(r"^\s+(\w+)\s+(demo-\w+)\s+(\S+)$", out.getvalue(), re.M)
    return {username: password for _role, username, password in rows}


def test_demo_users_get_new_random_passwords_that_work():
    first = _demo_passwords()
    assert set(first) == {"demo-clinician", "demo-admin", "demo-auditor"}
    user = authenticate(
        RequestFactory().post("/accounts/login/"),
        username="demo-clinician",
        password=first["demo-clinician"],
    )
    assert user is not None and user.groups.filter(name="clinician").exists()
    assert len(set(first.values())) == 3
    second = _demo_passwords()
    assert all(second[u] != first[u] for u in first)  # never fixed
    assert (
        authenticate(
            RequestFactory().post("/accounts/login/"),
            username="demo-admin",
            password=first["demo-admin"],
        )
        is None
    )


def test_create_api_token_prints_the_users_token():
    user = make_user("clinician")
    out = StringIO()
    call_command("create_api_token", user.username, stdout=out)
    assert out.getvalue().strip() == Token.objects.get(user=user).key
    with pytest.raises(CommandError, match="No active user"):
        call_command("create_api_token", "nobody")


def test_import_checkpoint_registers_and_activates(tiny_clinic_checkpoint):
    out = StringIO()
    call_command(
        "import_checkpoint", str(tiny_clinic_checkpoint), "--activate", stdout=out
    )
    mv = ModelVersion.objects.get()
    assert mv.is_active and "active" in out.getvalue()
    with pytest.raises(CommandError, match="does not exist"):
        call_command("import_checkpoint", "missing.pt")


def test_import_checkpoint_is_idempotent(tiny_clinic_checkpoint):
    call_command("import_checkpoint", str(tiny_clinic_checkpoint), "--activate")
    out = StringIO()
    call_command(
        "import_checkpoint", str(tiny_clinic_checkpoint), "--activate", stdout=out
    )
    assert ModelVersion.objects.count() == 1
    assert "already registered" in out.getvalue()
    assert ModelVersion.objects.get().is_active


def test_import_checkpoint_if_no_active_leaves_an_active_model_alone(
    tiny_clinic_checkpoint, model_dir
):
    from tests.clinic.factories import ModelVersionFactory

    active = ModelVersionFactory(is_active=True, status=ModelVersion.Status.ACTIVE)
    out = StringIO()
    call_command(
        "import_checkpoint",
        str(tiny_clinic_checkpoint),
        "--activate",
        "--if-no-active",
        stdout=out,
    )
    assert "already the active model" in out.getvalue()
    assert list(ModelVersion.objects.all()) == [active]
    active.delete()
    call_command(
        "import_checkpoint", str(tiny_clinic_checkpoint), "--activate", "--if-no-active"
    )
    assert ModelVersion.objects.get().is_active


def test_the_default_models_leave_one_subject_out_metrics_count_for_promotion():
    from clinic.selectors import model_version_class_metrics
    from tests.clinic.factories import ModelVersionFactory

    per_class = {
        c: {"sensitivity": 0.7, "sensitivity_ci": [0.5, 0.9], "specificity": 0.8}
        for c in ("healthy", "myopathy", "neuropathy")
    }
    mv = ModelVersionFactory(
        metadata={
            "class_names": ["healthy", "myopathy", "neuropathy"],
            "metrics": {"temperature": 1.2, "n2001_loso": {"per_class": per_class}},
        }
    )
    metrics = model_version_class_metrics(mv)
    assert metrics["myopathy"]["sensitivity"] == {
        "value": 0.7,
        "ci_low": 0.5,
        "ci_high": 0.9,
    }
