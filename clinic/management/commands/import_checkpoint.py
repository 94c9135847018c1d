from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from clinic.errors import UserFacingError
from clinic.models import ModelVersion
from clinic.services import model_version_import


class Command(BaseCommand):
    help = (
        "Register a checkpoint (.pt with its .pt.sha256 sidecar) in the model "
        "registry; --activate also promotes it if its metrics allow. Running it "
        "again for the same file changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", help="checkpoint file, absolute or under EMG_MODEL_DIR"
        )
        parser.add_argument("--activate", action="store_true")
        parser.add_argument(
            "--if-no-active",
            dest="if_no_active",
            action="store_true",
            help="do nothing while a model of this kind is active (for start-up)",
        )
        parser.add_argument(
            "--accept-below-thresholds",
            dest="override_reason",
            default=None,
            metavar="REASON",
            help="activate even if the version misses EMG_MIN_SENSITIVITY/"
            "SPECIFICITY; REASON is stored, audited and shown with every result",
        )
        parser.add_argument(
            "--model-version",
            dest="model_version",
            default=None,
            help="version label (default: metadata 'version' or the sha256 prefix)",
        )
        parser.add_argument(
            "--kind",
            default=ModelVersion.Kind.DISEASE,
            choices=ModelVersion.Kind.values,
        )

    def handle(self, *args, path: str, activate: bool, model_version, kind, **options):
        from emgcore.errors import EmgCoreError

        try:
            mv, done = model_version_import(
                checkpoint_path=path,
                activate=activate,
                version=model_version,
                kind=kind,
                if_no_active=options["if_no_active"],
                override_reason=options["override_reason"],
            )
        except (UserFacingError, EmgCoreError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from exc
        if mv is not None:
            state = "active" if mv.is_active else "candidate"
            done = f"{done} ({state})"
        self.stdout.write(done + ".")
