from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, transaction

from clinic.models import AuditEvent, ModelVersion
from clinic.roles import ROLE_PERMISSIONS
from clinic.services import audit_record
from tests.clinic.factories import ModelVersionFactory, make_user

pytestmark = pytest.mark.django_db


def test_it_allows_only_one_active_model_per_kind():
    ModelVersionFactory(is_active=True, status=ModelVersion.Status.ACTIVE)
    ModelVersionFactory(
        is_active=True,
        status=ModelVersion.Status.ACTIVE,
        kind=ModelVersion.Kind.GESTURE,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersionFactory(is_active=True, status=ModelVersion.Status.ACTIVE)


def test_it_refuses_an_active_flag_without_active_status():
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersionFactory(is_active=True, status=ModelVersion.Status.CANDIDATE)


def test_audit_events_cannot_be_changed_or_deleted_through_the_orm():
    event = audit_record(actor=make_user(), action=AuditEvent.Action.VIEWED)
    event.details = {"tampered": True}
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="LOGIN")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).details == {}


def test_audit_events_cannot_be_changed_in_sql_on_postgresql():
    event = audit_record(actor=None, action=AuditEvent.Action.LOGIN_FAILED)
    assert connection.vendor == "postgresql"
    for sql in (
        "UPDATE clinic_auditevent SET action = 'LOGIN' WHERE id = %s",
        "DELETE FROM clinic_auditevent WHERE id = %s",
    ):
        with pytest.raises(Exception, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "LOGIN_FAILED"


def test_the_migration_creates_each_role_with_exactly_its_permissions():
    from importlib import import_module

    from django.apps import apps

    # Run the data migration's function again (idempotent): a transactional test
    # may have flushed what it made when the database is reused (--reuse-db).
    import_module("clinic.migrations.0003_roles_and_append_only_audit").create_roles(
        apps, None
    )
    import_module("clinic.migrations.0006_retraining_and_reports").add_role_permissions(
        apps, None
    )
    import_module("clinic.migrations.0010_evaluation_provenance").add_role_permissions(
        apps, None
    )
    import_module("clinic.migrations.0014_upload_removal").add_role_permissions(
        apps, None
    )
    for role, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        granted = group.permissions.filter(content_type__app_label="clinic")
        assert set(granted.values_list("codename", flat=True)) == {
            codename for codename, _model in perms
        }


def test_roles_grant_what_each_role_needs():
    clinician, auditor, admin = (
        make_user(r) for r in ("clinician", "auditor", "admin")
    )
    assert clinician.has_perm("clinic.add_upload")
    assert not clinician.has_perm("clinic.view_all_uploads")
    assert not clinician.has_perm("clinic.promote_modelversion")
    assert auditor.has_perm("clinic.view_all_uploads")
    assert not auditor.has_perm("clinic.add_upload")
    assert not auditor.has_perm("clinic.view_upload_notes")
    assert admin.has_perm("clinic.promote_modelversion")
    assert not admin.has_perm("clinic.view_upload")
    # Removing failed uploads: admins any team's, clinicians only their own.
    assert admin.has_perm("clinic.delete_upload")
    assert not clinician.has_perm("clinic.delete_upload")
    assert not auditor.has_perm("clinic.delete_upload")
    # Reports: auditors and admins; retraining: admins only.
    assert auditor.has_perm("clinic.view_model_report")
    assert admin.has_perm("clinic.view_model_report")
    assert not clinician.has_perm("clinic.view_model_report")
    assert admin.has_perm("clinic.add_retrainingrun")
    assert not auditor.has_perm("clinic.add_retrainingrun")
    assert not clinician.has_perm("clinic.view_retrainingrun")
