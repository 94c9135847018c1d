from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from clinic.errors import UserFacingError
from clinic.services.users import api_token_create


class Command(BaseCommand):
    help = "Print the API token of USER (created on first use)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        try:
            key = api_token_create(username=username)
        except UserFacingError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(key)
