"""What each role may do in the gesture section (added to the clinic role groups).

Clinicians and admins run adaptations and see their team's sessions; auditors
see every session read-only. ``gesture_roles_sync`` is idempotent and only
*adds* these permissions, so it composes with ``clinic.roles.roles_sync``
(which calls it); the data migration ``0002_role_permissions`` holds a frozen
copy of this table.
"""

from __future__ import annotations

from clinic.roles import ADMIN, AUDITOR, CLINICIAN

# codename -> model (all in the "gestures" app)
GESTURE_ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    CLINICIAN: [
        ("add_gesturesession", "gesturesession"),
        ("view_gesturesession", "gesturesession"),
        ("view_gesturemodel", "gesturemodel"),
    ],
    ADMIN: [
        ("add_gesturesession", "gesturesession"),
        ("view_gesturesession", "gesturesession"),
        ("view_gesturemodel", "gesturemodel"),
        ("add_gesturemodel", "gesturemodel"),
    ],
    AUDITOR: [
        ("view_gesturesession", "gesturesession"),
        ("view_all_gesturesessions", "gesturesession"),
        ("view_gesturemodel", "gesturemodel"),
    ],
}


def grant(apps, table: dict[str, list[tuple[str, str]]]) -> None:
    """Add ``table``'s permissions to the role groups (creating what is missing)."""
    from django.contrib.auth.management import create_permissions

    config = apps.get_app_config("gestures")
    previous = getattr(config, "models_module", None)
    # Historical app configs have no models module; create_permissions skips
    # those, so pretend for the call and restore the value after.
    config.models_module = previous or True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = previous
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in table.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(
            *[
                Permission.objects.get(
                    content_type__app_label="gestures",
                    content_type__model=model,
                    codename=codename,
                )
                for codename, model in perms
            ]
        )


def gesture_roles_sync(apps=None) -> None:
    """Give the role groups their gesture permissions (idempotent)."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    grant(apps, GESTURE_ROLE_PERMISSIONS)
