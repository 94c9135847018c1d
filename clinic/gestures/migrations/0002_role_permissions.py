"""The role groups get their gesture permissions (see clinic.gestures.roles)."""

from django.db import migrations

# Frozen copy of clinic.gestures.roles.GESTURE_ROLE_PERMISSIONS at this migration.
GESTURE_ROLE_PERMISSIONS = {
    "clinician": [
        ("add_gesturesession", "gesturesession"),
        ("view_gesturesession", "gesturesession"),
        ("view_gesturemodel", "gesturemodel"),
    ],
    "admin": [
        ("add_gesturesession", "gesturesession"),
        ("view_gesturesession", "gesturesession"),
        ("view_gesturemodel", "gesturemodel"),
        ("add_gesturemodel", "gesturemodel"),
    ],
    "auditor": [
        ("view_gesturesession", "gesturesession"),
        ("view_all_gesturesessions", "gesturesession"),
        ("view_gesturemodel", "gesturemodel"),
    ],
}


def grant(apps, schema_editor):
    from clinic.gestures.roles import grant as grant_table

    grant_table(apps, GESTURE_ROLE_PERMISSIONS)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=GESTURE_ROLE_PERMISSIONS):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="gestures")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("gestures", "0001_initial"),
        ("clinic", "0003_roles_and_append_only_audit"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
