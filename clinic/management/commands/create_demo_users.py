from __future__ import annotations

from django.core.management.base import BaseCommand

from clinic.services.users import DEMO_TEAM, demo_users_create


class Command(BaseCommand):
    help = (
        "Create one demo account per role (clinician, admin, auditor) with new "
        "random passwords, printed once. Running it again resets the passwords."
    )

    def handle(self, *args, **options):
        rows = demo_users_create()
        self.stdout.write(
            f"Demo accounts (team {DEMO_TEAM}); passwords are shown once:"
        )
        for role, username, password in rows:
            self.stdout.write(f"  {role:<10} {username:<16} {password}")
