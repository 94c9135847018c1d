"""How the result page prints numbers, units and the model's identity."""

from __future__ import annotations

import re

import pytest

from clinic.models import Result
from clinic.templatetags.clinic_extras import units
from tests.clinic.factories import (
    ModelVersionFactory,
    ResultFactory,
    UploadFactory,
    make_user,
)

pytestmark = pytest.mark.django_db

SHA = "10163a7618c6d340" + "e" * 48

#: A channel as emgcore.features reports it, with the long floats it computes.
CHANNEL = {
    "name": "EMG",
    "unit": "mV",
    "rms": 0.09404721050110684,
    "mnf_hz": 417.41558127785606,
    "mdf_hz": 244.5789657949188,
    "zc_per_s": 643.7731676590807,
    "turns_per_s": 419.18848618323864,
    "notes": ["Turns use the 100 uV threshold."],
    "muap": {
        "amplitude_unit": "uV",
        "amplitude_pp_median": 612.6585927755157,
        "duration_ms_median": 12.5123,
        "reason": None,
    },
}


def _visible_text(html: str) -> str:
    """The page without scripts, JSON data and tag attributes."""
    html = re.sub(r"<script[\s\S]*?</script>", "", html)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture
def page(client):
    user = make_user("clinician")
    mv = ModelVersionFactory(name="allconvnet", version=SHA[:12], sha256=SHA)
    result = ResultFactory(
        job__upload=UploadFactory(uploaded_by=user),
        model_version=mv,
        features={"band_hz": [20.0, 1800.0], "channels": [CHANNEL]},
        quality={"ok": True, "warnings": ["Baseline noise of 3.5 uV RMS."]},
    )
    client.force_login(user)
    return client.get(f"/jobs/{result.job.pk}/result/").content.decode()


def test_amplitudes_print_in_micro_or_millivolts_never_uv(page):
    text = _visible_text(page)
    assert "94.0 µV" in text and "613 µV" in text
    assert "100 µV threshold" in text and "3.5 µV RMS" in text
    assert not re.search(r"\buV\b", text)


def test_feature_values_have_at_most_three_decimals(page):
    table = page.split('id="features-scroll"')[1].split("</table>")[0]
    numbers = re.findall(r"\d+\.\d+|\d+", _visible_text(table))
    assert numbers, table
    assert not [n for n in numbers if "." in n and len(n.split(".")[1]) > 3]
    assert "417 Hz" in table and "12.5 ms" in table


def test_the_features_table_scrolls_in_its_own_box(page):
    assert '<div class="table-scroll" id="features-scroll">' in page


def test_the_model_hash_appears_once(page):
    # Not in the version too (registration names a version after its hash).
    assert _visible_text(page).count("10163a7618c6") == 1
    assert "allconvnet" in page.split('id="model-identity"')[1].split("</p>")[0]


def test_a_named_version_keeps_its_name_beside_the_hash(client):
    user = make_user("clinician")
    mv = ModelVersionFactory(version="demo-1", sha256=SHA)
    result = ResultFactory(
        job__upload=UploadFactory(uploaded_by=user), model_version=mv
    )
    client.force_login(user)
    html = client.get(f"/jobs/{result.job.pk}/result/").content.decode()
    identity = html.split('id="model-identity"')[1].split("</p>")[0]
    assert "demo-1" in identity and identity.count("10163a7618c6") == 1


def test_not_analysable_reasons_print_microvolts(client):
    user = make_user("clinician")
    result = ResultFactory(
        job__upload=UploadFactory(uploaded_by=user),
        label=Result.NOT_ANALYSABLE,
        probabilities=None,
        confidence=None,
        gate={"reasons": [{"message": "It has an RMS of 0.5 uV, nearly flat."}]},
    )
    client.force_login(user)
    html = client.get(f"/jobs/{result.job.pk}/result/").content.decode()
    assert "an RMS of 0.5 µV, nearly flat" in html


@pytest.mark.parametrize(
    "raw,shown",
    [
        ("12 uV", "12 µV"),
        ("uV/ms", "µV/ms"),
        ("a uVolt", "a uVolt"),  # not the standalone unit
        ("muV", "muV"),
        (None, ""),
    ],
)
def test_the_units_filter_replaces_only_the_standalone_unit(raw, shown):
    assert units(raw) == shown
