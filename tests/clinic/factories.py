"""factory_boy factories for clinic rows (STYLE.md §9)."""

from __future__ import annotations

import hashlib

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile

from clinic import models


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"team-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    """A user with a profile; ``role`` names the group, ``team`` the team."""

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("a-long-test-password-1")

    profile = factory.RelatedFactory(
        "tests.clinic.factories.ProfileFactory", factory_related_name="user"
    )


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Profile
        django_get_or_create = ("user",)

    team = None


def make_user(role: str | None = None, *, team: models.Team | None = None, **kwargs):
    """A saved user in ``role``'s group (if any) and ``team`` (if any)."""
    user = UserFactory(**kwargs)
    if role:
        if not Group.objects.filter(name=role).exists():
            # A transactional test flushed the groups the migration made.
            from clinic.roles import roles_sync

            roles_sync()
        user.groups.add(Group.objects.get(name=role))
    if team is not None:
        user.profile.team = team
        user.profile.save()
    return user


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ModelVersion

    name = "cnn_tcn"
    version = factory.Sequence(lambda n: f"0.{n}")
    kind = models.ModelVersion.Kind.DISEASE
    checkpoint_path = factory.LazyAttribute(lambda o: f"{o.name}-{o.version}.pt")
    sha256 = "0" * 64
    metadata = factory.LazyFunction(
        lambda: {
            "class_names": ["healthy", "myopathy", "neuropathy"],
            "min_confidence": 0.6,
            "metrics": {
                "per_class": {
                    c: {
                        "sensitivity": 0.9,
                        "sensitivity_ci": [0.8, 0.95],
                        "specificity": 0.85,
                        "specificity_ci": [0.75, 0.9],
                    }
                    for c in ("healthy", "myopathy", "neuropathy")
                }
            },
        }
    )
    # A subject-held-out evaluation of three people per class (clinic.provenance).
    evaluation = factory.LazyFunction(
        lambda: {
            "protocol": "subject_held_out",
            "dataset": "synthetic",
            "people_per_class": {"healthy": 3, "myopathy": 3, "neuropathy": 3},
            "subjects": [f"S{i:02d}" for i in range(9)],
            "subject_held_out": True,
        }
    )


class UploadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Upload

    patient_code = factory.Sequence(lambda n: f"P-{n:04d}")
    muscle = "tibialis anterior"
    side = models.Upload.Side.LEFT
    electrode_type = models.Upload.ElectrodeType.NEEDLE
    uploaded_by = factory.LazyFunction(lambda: make_user("clinician"))
    team = factory.LazyAttribute(lambda o: o.uploaded_by.profile.team)


class UploadFileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.UploadFile

    upload = factory.SubFactory(UploadFactory)
    original_name = "signal.csv"

    class Params:
        content = factory.Sequence(lambda n: f"t,emg\n0,{n}\n".encode())

    sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.content).hexdigest())
    size_bytes = factory.LazyAttribute(lambda o: len(o.content))
    file = factory.LazyAttribute(lambda o: ContentFile(o.content, name=o.original_name))


class AnalysisJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.AnalysisJob

    upload = factory.SubFactory(UploadFactory)
    status = models.AnalysisJob.Status.QUEUED


class ResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Result

    job = factory.SubFactory(
        AnalysisJobFactory, status=models.AnalysisJob.Status.SUCCEEDED, progress=100
    )
    probabilities = factory.LazyFunction(
        lambda: {"healthy": 0.1, "myopathy": 0.8, "neuropathy": 0.1}
    )
    label = "myopathy"
    confidence = 0.8
    windows = factory.LazyFunction(
        lambda: [
            {
                "start_s": 0.0,
                "stop_s": 1.0,
                "probabilities": {"healthy": 0.1, "myopathy": 0.8, "neuropathy": 0.1},
            },
            {
                "start_s": 1.0,
                "stop_s": 2.0,
                "probabilities": {"healthy": 0.2, "myopathy": 0.7, "neuropathy": 0.1},
            },
        ]
    )
    quality = factory.LazyFunction(lambda: {"ok": True, "warnings": []})
    features = factory.LazyFunction(lambda: {"rms": 0.12})
    model_version = factory.SubFactory(ModelVersionFactory)


class RetrainingRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.RetrainingRun

    base_model = factory.SubFactory(ModelVersionFactory)
    started_by = factory.LazyFunction(lambda: make_user("admin"))
    use_emgdb = True
    epochs = 2
    learning_rate = 1e-3
