"""Role groups with their permissions, and a PostgreSQL trigger that makes the
audit trail append-only in the database too (the model refuses it in Python)."""

from django.db import migrations

# Frozen copy of clinic.roles.ROLE_PERMISSIONS at the time of this migration.
ROLE_PERMISSIONS = {
    "clinician": [
        ("add_upload", "upload"),
        ("view_upload", "upload"),
        ("view_upload_notes", "upload"),
        ("export_result", "upload"),
        ("add_confirmeddiagnosis", "confirmeddiagnosis"),
        ("view_confirmeddiagnosis", "confirmeddiagnosis"),
        ("view_modelversion", "modelversion"),
    ],
    "auditor": [
        ("view_upload", "upload"),
        ("view_all_uploads", "upload"),
        ("export_result", "upload"),
        ("view_confirmeddiagnosis", "confirmeddiagnosis"),
        ("view_modelversion", "modelversion"),
        ("view_auditevent", "auditevent"),
    ],
    "admin": [
        ("view_modelversion", "modelversion"),
        ("add_modelversion", "modelversion"),
        ("change_modelversion", "modelversion"),
        ("promote_modelversion", "modelversion"),
        ("view_auditevent", "auditevent"),
    ],
}

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION clinic_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The audit trail is append-only: % is not allowed.', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER clinic_auditevent_append_only
    BEFORE UPDATE OR DELETE ON clinic_auditevent
    FOR EACH ROW EXECUTE FUNCTION clinic_auditevent_append_only();
"""
DROP_TRIGGER_SQL = """
DROP TRIGGER IF EXISTS clinic_auditevent_append_only ON clinic_auditevent;
DROP FUNCTION IF EXISTS clinic_auditevent_append_only();
"""


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # Historical app configs have no models module; create_permissions
        # skips those, so pretend for the call and restore the value after.
        previous = getattr(app_config, "models_module", None)
        app_config.models_module = previous or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = previous
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(
            [
                Permission.objects.get(
                    content_type__app_label="clinic",
                    content_type__model=model,
                    codename=codename,
                )
                for codename, model in perms
            ]
        )


def delete_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGER_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0002_uploads_jobs_models_audit"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_roles, delete_roles),
        migrations.RunPython(add_trigger, drop_trigger),
    ]
