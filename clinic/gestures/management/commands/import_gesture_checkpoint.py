"""Register a pretrained gesture checkpoint (default: the shipped one)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from clinic.errors import UserFacingError
from clinic.gestures.services import gesture_model_register

SHIPPED = "gesture/allconvnet-myo-readings.pt"


class Command(BaseCommand):
    help = (
        "Register a pretrained gesture checkpoint for the 'Gesture adaptation' "
        f"section (default: {SHIPPED} under EMG_MODEL_DIR). Idempotent: a "
        "checkpoint already registered (same sha256) is left as it is."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path",
            nargs="?",
            default=SHIPPED,
            help="checkpoint file, absolute or under EMG_MODEL_DIR",
        )
        parser.add_argument("--name", default=None, help="display name")
        parser.add_argument(
            "--if-present",
            action="store_true",
            help="do nothing (exit 0) when the file does not exist",
        )

    def handle(self, *args, path: str, name, if_present: bool, **options):
        from clinic.gestures.services import gesture_checkpoint_file

        if if_present and not gesture_checkpoint_file(path).is_file():
            self.stdout.write(f"No gesture checkpoint at {path}; nothing registered.")
            return
        try:
            gm, created = gesture_model_register(checkpoint_path=path, name=name)
        except UserFacingError as exc:
            raise CommandError(str(exc)) from exc
        state = "registered" if created else "already registered"
        self.stdout.write(f"Gesture model {gm} {state} (id {gm.pk}).")
