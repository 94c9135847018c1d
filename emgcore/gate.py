"""The signal-quality gate: may this recording be given a disease label at all?

One place decides when a recording cannot support a conclusion, so that
``predict``, the web app and retraining apply the same rules. The gate looks
at the channels the model will read and answers with a :class:`Verdict`:

- whether the recording is analysable, and if not, every reason as a
  :class:`Reason` (a code, a plain-language message that says what is wrong,
  which limit it breaks and what to do, the measured value and the limit);
- which parts are unusable (``bad_intervals_s``): blocks of ``BLOCK_S`` that
  are flat, nearly flat, clipped or of impossible amplitude, widened by
  ``MARGIN_S``; the model only sees windows that lie wholly outside them;
- how much was left out (``excluded_s``, ``excluded_fraction``).

The thresholds below are the whole policy; docs/QUALITY.md lists them with
how many real recordings of ../shared/data each rule rejects
(``scripts/quality_gate_survey.py``). :func:`emgcore.quality.assess_quality`
stays the descriptive report; this module is the decision.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from emgcore._spectral import chunked_welch, line_noise_from_psd
from emgcore.errors import InvalidRecordingError
from emgcore.gate_verdict import CAUSE_WORDS, ModelInput, Reason, Verdict
from emgcore.quality import MIN_FLAT_S, channel_runs
from emgcore.recording import Recording

NOT_ANALYSABLE = "not_analysable"

__all__ = ["NOT_ANALYSABLE", "ModelInput", "Reason", "Verdict", "check_recording"]

#: Length of the blocks judged one by one, in seconds. 0.1 s holds several
#: motor-unit potentials (5-15 ms each) so its RMS is meaningful, equals the
#: shortest flat run that counts (quality.MIN_FLAT_S), and is below the 0.25 s
#: window of the shipped model, so one bad block costs few windows.
BLOCK_S = 0.1
#: Each bad stretch is widened by this much on both sides before windows are
#: dropped: the 20 Hz high-pass (4th order, run forwards and backwards) rings
#: for about two of its periods after a step such as a signal dropping to zero,
#: i.e. < 0.1 s, so windows touching that ringing are left out too.
MARGIN_S = 0.1
#: A block is flat when more than half of its samples lie in flat runs
#: (constant for at least quality.MIN_FLAT_S, i.e. lost contact or no signal).
#: Half: a block that is mostly constant has no EMG worth reading.
FLAT_BLOCK_FRACTION = 0.5
#: A block is clipped when more than this share of its samples sits in runs at
#: the amplifier's rail. A flattened MUAP peak lasts about 1 ms; 2 % of a 0.1 s
#: block is two such peaks, past which amplitude and shape features (and the
#: model) read the amplifier's limit instead of the muscle. No real recording
#: in ../shared/data has a clipped sample (docs/QUALITY.md).
CLIP_BLOCK_FRACTION = 0.02
#: Band (Hz) in which block RMS and the mains share are measured: the shipped
#: model's band-pass. The top is lowered to 0.45 * sfreq for slower recordings.
BAND_HZ = (20.0, 2000.0)
#: A block whose RMS in BAND_HZ (mains notched) is below this many uV is nearly
#: flat. EMG amplifiers have an input noise of roughly 0.5-2 uV RMS over this
#: band, so even a muscle at rest records more; the quietest 0.1 s block of the
#: real needle recordings has 0.67 uV (N2001A04BB51, docs/QUALITY.md), twice
#: this. Values far below it also mean the units are wrong (volts stored as
#: millivolts).
NEAR_FLAT_RMS_UV = 0.3
#: A block whose RMS is above this many uV (20 mV) is not EMG: the largest
#: needle MUAPs reach about 10-20 mV peak-to-peak and an interference pattern
#: has an RMS of a few mV at most (the loudest real 0.1 s block: 2.1 mV). Above
#: this, the units are wrong (uV stored as mV) or the electrode moved.
MAX_RMS_UV = 20_000.0
#: Mains interference "dominates" when its 50/60 Hz lines and harmonics hold
#: more than this share of the power in BAND_HZ ...
MAINS_SHARE_LIMIT = 0.5
#: ... and what is left after removing them has an RMS below this many uV. The
#: rule is about what is left, not the share: healthy Mendeley biceps records
#: hold up to 99.7 % mains power yet keep 31 uV RMS of EMG underneath (the
#: lowest residual of any real record is 7 uV); a pure 50 Hz signal leaves
#: only quantisation noise (< 0.1 uV at 16 bits). 2 uV is above the noise of
#: an amplifier with a floating input and 3.5 times below the real minimum.
MAINS_RESIDUAL_FLOOR_UV = 2.0
#: Without physical units the residual cannot be judged in uV; then mains
#: dominates when less than this share of the power is left (-30 dB). The most
#: mains-laden real record keeps 0.3 %, three times this.
MAINS_RESIDUAL_SHARE_MIN = 1e-3
#: Shortest spectrum the mains rule is applied to (seconds): shorter ones have
#: too few frequency bins to tell 50 Hz lines from EMG.
MIN_SPECTRUM_S = 1.0
#: Usable signal needed for a disease label, in seconds (counting only good
#: stretches at least one model window long). 2 s is 15 windows of 0.25 s at
#: the shipped model's 0.125 s step (8 without overlap), enough for the mean
#: of the window probabilities to settle; it is 40 % of the shortest real
#: record (5 s, Mendeley), so a record may lose more than half and still count.
MIN_USABLE_S = 2.0

# Multipliers to microvolts for the units the readers produce.
_TO_UV = {"V": 1e6, "mV": 1e3, "uV": 1.0, "nV": 1e-3}

# Order of the reasons in a verdict: the model's requirements, then causes
# found in the signal, then the consequence.
_ORDER = (
    "channel_count",
    "units",
    "site",
    "sampling_rate",
    "mains",
    "flat",
    "clipped",
    "near_flat",
    "amplitude_high",
    "too_short",
)


def _pct(x: float) -> str:
    # Two decimals near 100 % so "99.6 %" of mains is not printed as "100 %".
    if x >= 1.0:
        return "100 %"
    return f"{100 * x:.2f} %" if x > 0.999 else f"{100 * x:.1f} %"


def _block_sums(values: NDArray, starts: NDArray[np.intp]) -> NDArray[np.float64]:
    return np.add.reduceat(values, starts).astype(np.float64)


def _runs_mask(runs: list[tuple[int, int]], n: int) -> NDArray[np.bool_]:
    mask = np.zeros(n, dtype=bool)
    for start, length in runs:
        mask[start : start + length] = True
    return mask


def _band(sfreq: float) -> tuple[float, float] | None:
    """BAND_HZ fitted below 0.45 * sfreq, or None when no such band exists."""
    hi = min(BAND_HZ[1], 0.45 * sfreq)
    return (BAND_HZ[0], hi) if hi > 2 * BAND_HZ[0] else None


def _emg_band_signal(x: NDArray, sfreq: float, band: tuple[float, float]) -> NDArray:
    """``x`` band-passed and mains-notched as the preprocessor would (float32)."""
    from emgcore.config import PreprocessConfig
    from emgcore.preprocess import EMGPreprocessor

    config = PreprocessConfig(
        target_sfreq=None,
        bandpass_hz=band,
        notch_hz="auto",
        zscore=None,
        window_s=1.0 / sfreq,
        step_s=1.0 / sfreq,
    )
    rec = Recording(x[None, :], sfreq, ("x",), ("a.u.",))
    return EMGPreprocessor(config, n_jobs=1).transform(rec).signal[0]


def _mains(
    x: NDArray, sfreq: float, band: tuple[float, float], to_uv: float | None
) -> tuple[Reason | None, str | None, dict[str, Any]]:
    """The recording-level mains rule: (reason or None, warning or None, values)."""
    freqs, psd = chunked_welch(x[None, :], sfreq)
    noise = line_noise_from_psd(freqs, psd, sfreq)
    df = float(freqs[1] - freqs[0])
    in_band = (freqs >= band[0]) & (freqs <= band[1])
    total = float(psd[0, in_band].sum() * df)
    half_bw = max(1.0, 1.5 * df)
    best = (0.0, None)
    for f0 in [noise.line_freq_hz] if noise.line_freq_hz else [50.0, 60.0]:
        k = np.arange(1, int(band[1] // f0) + 1)[:, None] * f0
        lines = (np.abs(freqs[None, :] - k) <= half_bw).any(axis=0) & in_band
        share = float(psd[0, lines].sum() * df) / total if total > 0 else 0.0
        best = max(best, (share, f0), key=lambda b: b[0])
    share, f0 = best
    residual = math.sqrt(max(total * (1.0 - share), 0.0))
    residual_uv = residual * to_uv if to_uv is not None else None
    values = {
        "mains_hz": f0,
        "mains_share": round(share, 6),
        "residual_rms_uv": None if residual_uv is None else round(residual_uv, 4),
    }
    if share <= MAINS_SHARE_LIMIT:
        return None, None, values
    where = f"{f0:g} Hz" if f0 else "50/60 Hz"
    if residual_uv is not None:
        dominated = residual_uv < MAINS_RESIDUAL_FLOOR_UV
        left = f"an RMS of {residual_uv:.2g} uV"
        limit_words = f"below the {MAINS_RESIDUAL_FLOOR_UV:g} uV that EMG always has"
    else:
        dominated = 1.0 - share < MAINS_RESIDUAL_SHARE_MIN
        left = f"{_pct(1.0 - share)} of the power"
        limit_words = f"below the {_pct(MAINS_RESIDUAL_SHARE_MIN)} limit"
    if not dominated:
        warning = (
            f"Mains interference ({where} and harmonics) holds {_pct(share)} of the "
            f"power; it was filtered out and the EMG underneath ({left}) was "
            "analysed. Check the ground electrode to record a cleaner signal."
        )
        return None, warning, values
    reason = Reason(
        "mains",
        f"The signal is mains interference ({where} and harmonics: {_pct(share)} of "
        f"the power); what is left after removing it has {left}, {limit_words}. "
        "The electrode or the ground is probably disconnected: check both and "
        "record again.",
        value=values["residual_rms_uv"] if residual_uv is not None else 1.0 - share,
        limit=MAINS_RESIDUAL_FLOOR_UV
        if residual_uv is not None
        else MAINS_RESIDUAL_SHARE_MIN,
        unit="uV" if residual_uv is not None else "share",
    )
    return reason, None, values


def _bad_blocks(
    x: NDArray, sfreq: float, to_uv: float | None, band: tuple[float, float] | None
) -> tuple[NDArray[np.intp], NDArray[np.object_], dict[str, Any]]:
    """Block starts (samples) and each block's problem code ('' when fine)."""
    n = x.shape[0]
    block = max(1, int(round(BLOCK_S * sfreq)))
    starts = np.arange(0, max(n - block, 0) + 1, block, dtype=np.intp)
    sizes = np.diff(np.append(starts, n)).astype(np.float64)  # tail in last block
    clipped, flat = channel_runs(x, sfreq)
    flat_frac = _block_sums(_runs_mask(flat, n), starts) / sizes
    clip_frac = _block_sums(_runs_mask(clipped, n), starts) / sizes
    codes = np.full(starts.shape, "", dtype=object)
    measured: dict[str, Any] = {}
    if to_uv is not None and band is not None and n >= 64:
        emg = _emg_band_signal(x, sfreq, band).astype(np.float64)
        rms_uv = np.sqrt(_block_sums(emg * emg, starts) / sizes) * to_uv
        live = flat_frac <= FLAT_BLOCK_FRACTION
        measured["block_rms_uv_median"] = (
            round(float(np.median(rms_uv[live])), 4) if live.any() else 0.0
        )
        measured["block_rms_uv_min"] = round(float(rms_uv.min()), 4)
        measured["block_rms_uv_max"] = round(float(rms_uv.max()), 4)
        codes[rms_uv > MAX_RMS_UV] = "amplitude_high"
        codes[rms_uv < NEAR_FLAT_RMS_UV] = "near_flat"
    codes[clip_frac > CLIP_BLOCK_FRACTION] = "clipped"
    codes[flat_frac > FLAT_BLOCK_FRACTION] = "flat"
    return starts, codes, measured


def _intervals(
    starts: NDArray[np.intp], bad: NDArray[np.bool_], n: int, sfreq: float
) -> list[tuple[float, float]]:
    """Merged [start, stop) seconds of the bad blocks, widened by MARGIN_S."""
    stops = np.append(starts[1:], n)
    duration = n / sfreq
    out: list[tuple[float, float]] = []
    for i in np.flatnonzero(bad):
        lo = max(0.0, starts[i] / sfreq - MARGIN_S)
        hi = min(duration, stops[i] / sfreq + MARGIN_S)
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _cause_reason(code: str, seconds: float, duration: float, unit: str, m: dict):
    share = _pct(seconds / duration)
    if code == "flat":
        text = (
            f"{share} of the recording is flat (constant for {MIN_FLAT_S:g} s or "
            "longer): the electrode had no contact or the amplifier was not "
            "recording. Check the electrode and the ground, then record again."
        )
        return Reason(code, text, seconds / duration, FLAT_BLOCK_FRACTION, "share")
    if code == "clipped":
        text = (
            f"{share} of the recording is clipped: there, more than "
            f"{_pct(CLIP_BLOCK_FRACTION)} of the samples sit at the amplifier's "
            "limit. Lower the amplifier gain (or widen its input range) and record "
            "again."
        )
        return Reason(code, text, seconds / duration, CLIP_BLOCK_FRACTION, "share")
    if code == "near_flat":
        text = (
            f"{share} of the recording is nearly flat: its RMS is below "
            f"{NEAR_FLAT_RMS_UV:g} uV (lowest {m.get('block_rms_uv_min', 0):.2g} uV), "
            "less than an EMG amplifier's own noise. Check the electrode and the "
            f"ground; if the signal looked normal, check the units (the file says "
            f"'{unit}')."
        )
        return Reason(code, text, m.get("block_rms_uv_min"), NEAR_FLAT_RMS_UV, "uV")
    text = (
        f"{share} of the recording has an RMS above {MAX_RMS_UV / 1000:g} mV "
        f"(highest {m.get('block_rms_uv_max', 0) / 1000:.3g} mV), which EMG does "
        f"not reach: check the units (the file says '{unit}') and look for "
        "electrode movement."
    )
    return Reason(code, text, m.get("block_rms_uv_max"), MAX_RMS_UV, "uV")


def _model_fit(
    recording: Recording, model: ModelInput, channel: int | None
) -> tuple[list[int], list[Reason]]:
    """The channels the model reads, and reasons the recording does not fit it."""
    reasons = []
    if model.single_channel:
        index = 0 if channel is None else int(channel)
        if not 0 <= index < recording.n_chans:
            # A wrong argument, not a property of the recording.
            raise InvalidRecordingError(
                f"Channel {index} was asked for, but the recording has channels "
                f"0-{recording.n_chans - 1}."
            )
        picked = [index]
    else:
        picked = list(range(recording.n_chans))
        if recording.n_chans != model.n_chans:
            reasons.append(
                Reason(
                    "channel_count",
                    f"The recording has {recording.n_chans} channels; this model "
                    f"reads {model.n_chans}. Export the recording with exactly "
                    f"{model.n_chans} channels.",
                    float(recording.n_chans),
                    float(model.n_chans),
                    "channels",
                )
            )
    if model.physical_units:
        for ch in picked:
            unit = recording.units[ch]
            if unit not in _TO_UV:
                # Amplitude in uV is part of this model's evidence (MUAP size);
                # counts without a gain would be read as microvolts.
                reasons.append(
                    Reason(
                        "units",
                        f"Channel {recording.ch_names[ch]} is in "
                        f"'{unit or 'no unit'}', not in volts, millivolts or "
                        "microvolts; this model needs physical units because "
                        "amplitude is part of the evidence. Export the recording "
                        "with its calibration (gain) and upload it again.",
                    )
                )
    if not model.site_calibrated:
        from emgcore.site_calibration import UNCALIBRATED_MESSAGE

        reasons.append(Reason("site", UNCALIBRATED_MESSAGE))
    fs = recording.sfreq
    if fs < model.min_sfreq_hz - 1e-6:
        reasons.append(
            Reason(
                "sampling_rate",
                f"The recording is sampled at {fs:g} Hz, below the "
                f"{model.min_sfreq_hz:g} Hz this model needs (it learnt from "
                "frequencies a slower recording does not contain). Record or export "
                f"at {model.min_sfreq_hz:g} Hz or more.",
                fs,
                model.min_sfreq_hz,
                "Hz",
            )
        )
    elif fs > model.max_sfreq_hz + 1e-6:
        reasons.append(
            Reason(
                "sampling_rate",
                f"The recording is sampled at {fs:g} Hz, above the "
                f"{model.max_sfreq_hz:g} Hz this model accepts. Export it at a "
                "lower rate.",
                fs,
                model.max_sfreq_hz,
                "Hz",
            )
        )
    return picked, reasons


def check_recording(
    recording: Recording, model: ModelInput, *, channel: int | None = None
) -> Verdict:
    """Decide whether ``recording`` can be analysed by a model needing ``model``.

    Parameters
    ----------
    recording : Recording
        The recording as read (physical units per channel).
    model : ModelInput
        What the model needs (:meth:`ModelInput.from_metadata`).
    channel : int or None
        The channel a single-channel model analyses (default the first).

    Returns
    -------
    Verdict
        Pure function of its inputs; never raises for a bad signal.

    Raises
    ------
    InvalidRecordingError
        Only if ``channel`` does not exist (a wrong argument).
    """
    sfreq = float(recording.sfreq)
    n = recording.n_times
    duration = n / sfreq
    picked, reasons = _model_fit(recording, model, channel)
    if reasons:
        return Verdict(False, tuple(reasons), duration, (), 0.0, 0.0)
    band = _band(sfreq)
    warnings: list[str] = []
    measured: dict[str, Any] = {}
    bad = None
    starts = None
    codes_all: dict[str, NDArray[np.bool_]] = {}
    for ch in picked:
        x = recording.data[ch]
        unit = recording.units[ch]
        to_uv = _TO_UV.get(unit)
        if to_uv is None:
            warnings.append(
                f"Channel {recording.ch_names[ch]} has no physical unit ('{unit}'), "
                "so its amplitude could not be checked."
            )
        if band is not None and duration >= MIN_SPECTRUM_S:
            reason, warning, values = _mains(x, sfreq, band, to_uv)
            measured.update(values)
            if reason is not None:
                reasons.append(reason)
            if warning is not None:
                warnings.append(warning)
        starts, codes, values = _bad_blocks(x, sfreq, to_uv, band)
        measured.update(values)
        bad_ch = codes != ""
        bad = bad_ch if bad is None else bad | bad_ch
        for code in CAUSE_WORDS:
            hit = codes == code
            codes_all[code] = codes_all.get(code, np.zeros_like(hit)) | hit
    assert bad is not None and starts is not None
    bad_intervals = _intervals(starts, bad, n, sfreq)
    excluded_s = float(sum(hi - lo for lo, hi in bad_intervals))
    good = Verdict(True, (), duration, tuple(bad_intervals), excluded_s, 0.0)
    usable = float(
        sum(hi - lo for lo, hi in good.good_intervals_s if hi - lo >= model.window_s)
    )
    block = max(1, int(round(BLOCK_S * sfreq))) / sfreq
    excluded_by = {
        code: float(min(hit.sum() * block, duration))
        for code, hit in codes_all.items()
        if hit.any()
    }
    if usable < MIN_USABLE_S:
        unit = recording.units[picked[0]]
        for code, seconds in excluded_by.items():
            reasons.append(_cause_reason(code, seconds, duration, unit, measured))
        if excluded_s > 0:
            text = (
                f"After leaving out the unusable parts, {usable:.1f} s of usable "
                f"signal remain; at least {MIN_USABLE_S:g} s are needed."
            )
        else:
            text = (
                f"The recording holds {usable:.1f} s of usable signal (it lasts "
                f"{duration:.2f} s); at least {MIN_USABLE_S:g} s are needed. "
                "Record for longer."
            )
        reasons.append(Reason("too_short", text, usable, MIN_USABLE_S, "s"))
    reasons.sort(key=lambda r: _ORDER.index(r.code))
    return Verdict(
        analysable=not reasons,
        reasons=tuple(reasons),
        duration_s=duration,
        bad_intervals_s=tuple(bad_intervals),
        excluded_s=excluded_s,
        usable_s=usable,
        excluded_by=excluded_by,
        warnings=tuple(warnings),
        measured=measured,
    )
