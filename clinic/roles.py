"""The three roles and what each may do; roles are Django groups.

The data migrations ``0003_roles_and_append_only_audit`` and
``0006_retraining_and_reports`` (and ``0010_evaluation_provenance`` for the
auditors' audit-trail export, ``0014_upload_removal`` for the admins' removal
of failed uploads) hold frozen copies of this table; change them
together (``roles_sync`` brings an existing database up to date).
"""

from __future__ import annotations

CLINICIAN = "clinician"
ADMIN = "admin"
AUDITOR = "auditor"
ROLES = (CLINICIAN, ADMIN, AUDITOR)

# codename -> model (all in the "clinic" app)
ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    CLINICIAN: [
        ("add_upload", "upload"),
        ("view_upload", "upload"),
        ("view_upload_notes", "upload"),
        ("export_result", "upload"),
        ("add_confirmeddiagnosis", "confirmeddiagnosis"),
        ("view_confirmeddiagnosis", "confirmeddiagnosis"),
        ("view_modelversion", "modelversion"),
    ],
    AUDITOR: [
        ("view_upload", "upload"),
        ("view_all_uploads", "upload"),
        ("export_result", "upload"),
        ("view_confirmeddiagnosis", "confirmeddiagnosis"),
        ("view_modelversion", "modelversion"),
        ("view_auditevent", "auditevent"),
        ("export_auditevent", "auditevent"),
        ("view_model_report", "modelversion"),
    ],
    ADMIN: [
        ("view_modelversion", "modelversion"),
        ("add_modelversion", "modelversion"),
        ("change_modelversion", "modelversion"),
        ("promote_modelversion", "modelversion"),
        ("view_auditevent", "auditevent"),
        ("view_model_report", "modelversion"),
        ("add_retrainingrun", "retrainingrun"),
        ("view_retrainingrun", "retrainingrun"),
        ("change_retrainingrun", "retrainingrun"),
        # Remove any team's failed upload (a clinician removes only their own);
        # a soft removal, audited (clinic.services.removal).
        ("delete_upload", "upload"),
    ],
}


def roles_sync(apps=None) -> None:
    """Create the role groups and give them exactly their permissions (idempotent)."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        previous = getattr(app_config, "models_module", None)
        app_config.models_module = previous or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = previous
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = [
            Permission.objects.get(
                content_type__app_label="clinic",
                content_type__model=model,
                codename=codename,
            )
            for codename, model in perms
        ]
        group.permissions.set(wanted)
    # The gesture app adds its own permissions to the same groups.
    from clinic.gestures.roles import gesture_roles_sync

    gesture_roles_sync(apps)
