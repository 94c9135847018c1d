"""PreprocessConfig: defaults, JSON round trip, readable rejections."""

from __future__ import annotations

import dataclasses
import json

import pytest

from emgcore.config import PreprocessConfig


def test_its_defaults_follow_the_paper():
    cfg = PreprocessConfig()
    assert cfg.target_sfreq == 1000.0
    assert cfg.bandpass_hz == (20.0, 450.0)
    assert cfg.filter_order == 4
    assert cfg.notch_hz == "auto"
    assert cfg.zscore == "recording"
    assert (cfg.window_s, cfg.step_s) == (1.0, 0.5)
    assert cfg.replicate_to_n_chans is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"target_sfreq": None, "notch_hz": None, "zscore": None},
        {"bandpass_hz": (20, 500), "notch_hz": 50, "replicate_to_n_chans": 12},
        {"bandpass_hz": None, "notch_hz": 60.0, "zscore": "window", "step_s": 1.0},
    ],
)
def test_it_survives_a_json_round_trip(kwargs):
    cfg = PreprocessConfig(**kwargs)
    text = json.dumps(cfg.to_dict(), allow_nan=False)
    back = PreprocessConfig.from_dict(json.loads(text))
    assert back == cfg
    assert back.bandpass_hz is None or isinstance(back.bandpass_hz, tuple)


def test_it_normalises_numbers_to_floats():
    cfg = PreprocessConfig(bandpass_hz=[20, 500], notch_hz=50, window_s=2)
    assert cfg.bandpass_hz == (20.0, 500.0)
    assert isinstance(cfg.bandpass_hz[0], float)
    assert cfg.notch_hz == 50.0 and isinstance(cfg.notch_hz, float)
    assert cfg.window_s == 2.0


def test_it_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PreprocessConfig().window_s = 2.0  # type: ignore[misc]


def test_from_dict_fills_missing_keys_with_defaults():
    assert PreprocessConfig.from_dict({"window_s": 0.25}) == PreprocessConfig(
        window_s=0.25
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bandpass_hz": (450.0, 20.0)}, "are they reversed"),
        ({"bandpass_hz": (20.0, 20.0)}, "must be below the high edge"),
        ({"bandpass_hz": (-5.0, 450.0)}, "low edge' must be a positive number"),
        ({"bandpass_hz": (20.0,)}, "must be a pair"),
        ({"bandpass_hz": "20-450"}, "must be a pair"),
        ({"bandpass_hz": (600.0, 800.0)}, "below the Nyquist frequency 500 Hz"),
        ({"window_s": -1.0}, "'window_s' must be a positive number, got -1.0"),
        ({"window_s": 0}, "'window_s' must be a positive number"),
        ({"step_s": float("nan")}, "'step_s' must be a positive number"),
        ({"target_sfreq": 0.0}, "'target_sfreq' must be a positive number"),
        ({"target_sfreq": 1e7}, "outside the supported range"),
        ({"filter_order": 0}, "'filter_order' must be an integer >= 1, got 0"),
        ({"filter_order": 4.0}, "'filter_order' must be an integer"),
        ({"filter_order": 12}, "above the limit of 10"),
        ({"notch_hz": 55.0}, "'notch_hz' parameter. Allowed values are"),
        ({"notch_hz": "yes"}, "'notch_hz' parameter"),
        ({"notch_harmonics": "no"}, "'notch_harmonics' must be True or False"),
        ({"zscore": "global"}, "'zscore' parameter. Allowed values are"),
        ({"replicate_to_n_chans": 0}, "'replicate_to_n_chans' must be an integer"),
        ({"replicate_to_n_chans": 10_000}, "above the 512 channels"),
    ],
)
def test_it_rejects_bad_values_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        PreprocessConfig(**kwargs)


def test_from_dict_rejects_unknown_keys():
    with pytest.raises(ValueError, match="Unknown PreprocessConfig field.*windw_s"):
        PreprocessConfig.from_dict({"windw_s": 1.0})
