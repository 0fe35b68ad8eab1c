"""Speaker measures on the real clips: the profile's pitch per speaker (the man an octave-ish
below the women, and the fourth speaker cross-checked with librosa's pyin), its bookkeeping of
speech and pauses, the no-pause and no-speech fallbacks; and resemblyzer similarity (halves of
one recording closer than recordings of different people)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from tests.speech.realclips import CLIPS, alignment, audio
from vpipe.speech.profile import ENV_FREQS, SpeakerProfile, long_term_envelope, measure_profile, shaped_noise


@cache
def profile(name: str) -> SpeakerProfile:
    a, al = audio(name), alignment(name)
    speech = [(w.start, w.end) for w in al.words]
    silences = [(p.start, p.end) for p in al.phones if p.label == "SIL"]
    return measure_profile(a.samples, a.rate, speech, silences)


@pytest.mark.media
def test_pitch_separates_the_man_from_the_women() -> None:
    """Median F0: the man 80–130 Hz, the women 160–260 Hz, each woman ≥ 1.6× the man
    (measured 96, 189, 206 Hz); the 10th/90th percentiles bracket the median."""
    f0 = {name: profile(name).f0_median for name in CLIPS}
    print({k: round(v, 1) for k, v in f0.items()})
    assert 80 < f0["interview_man"] < 130
    for woman in ("glasses_woman", "studio_woman"):
        assert 160 < f0[woman] < 260 and f0[woman] >= 1.6 * f0["interview_man"]
    for name in CLIPS:
        p = profile(name)
        assert p.f0_p10 < p.f0_median < p.f0_p90 and p.voiced_seconds > 1.0


@pytest.mark.media
@pytest.mark.parametrize("name", list(CLIPS))
def test_profile_bookkeeping(name: str) -> None:
    """Speech seconds are the aligned words' total; pause seconds the SIL time outside words;
    stereo input measures like its mono mix; the room tone is cut from real pauses and is
    ≥ 15 dB below the speech."""
    a, al, p = audio(name), alignment(name), profile(name)
    words = sum(w.duration for w in al.words)
    pauses = sum(s.duration for s in al.phones if s.label == "SIL")
    assert p.speech_seconds == pytest.approx(words, abs=0.01)
    assert p.silence_seconds == pytest.approx(pauses, abs=0.05) and words + pauses == pytest.approx(
        a.duration, abs=0.05
    )
    mono = measure_profile(
        a.mono(),
        a.rate,
        [(w.start, w.end) for w in al.words],
        [(s.start, s.end) for s in al.phones if s.label == "SIL"],
    )
    assert mono.f0_median == pytest.approx(p.f0_median, rel=1e-3)
    assert mono.loudness_lufs == pytest.approx(p.loudness_lufs, abs=0.01)
    assert p.room_tone_measured and p.room_tone_rate == a.rate and p.noise_dbfs < p.loudness_lufs - 15
    assert p.freqs.shape == p.envelope_db.shape == p.ltas_db.shape == p.noise_db.shape == ENV_FREQS.shape


@pytest.mark.media
def test_a_fourth_speaker_without_pauses_agrees_with_pyin() -> None:
    """speech_a.wav measured as one speech span with no pause: median F0 within 10 % of pyin
    over the same audio (measured comb 166 Hz), and the room tone is synthesized (shaped
    noise) at a level below the speech."""
    import librosa

    from vpipe.speech.pitch import resample

    a = audio("speech_a.wav")
    p = measure_profile(a.samples, a.rate, [(0.0, a.duration)], [])
    y = resample(a.mono(), a.rate, 22050)
    f0, voiced, _ = librosa.pyin(y, fmin=50, fmax=500, sr=22050, frame_length=1102, hop_length=220)
    pyin = float(np.nanmedian(f0[voiced]))
    print(f"speech_a: comb {p.f0_median:.0f} Hz, pyin {pyin:.0f} Hz")
    assert abs(p.f0_median / pyin - 1) < 0.10
    assert not p.room_tone_measured and p.room_tone_rate == 22050 and len(p.room_tone) == 3 * 22050
    assert p.noise_dbfs < p.loudness_lufs - 10


def test_no_speech_gives_an_empty_but_valid_profile() -> None:
    p = measure_profile(np.zeros((44100, 2), np.float32), 44100, [(0.0, 1.0)], [])
    assert p.f0_median == 0.0 and p.voiced_seconds == 0.0 and np.isnan(p.loudness_lufs)
    assert np.all(np.isfinite(p.room_tone)) and p.noise_dbfs == -120.0


def test_shaped_noise_follows_its_spectrum() -> None:
    """Noise shaped by a spectrum falling 30 dB from 100 Hz to 5 kHz measures that way
    (±3 dB in 1/3-octave-ish bands); the same seed gives the same noise."""
    target = np.interp(np.log2(np.maximum(ENV_FREQS, 1)), np.log2([100, 5000]), [-40.0, -70.0])
    x = shaped_noise(target, 3.0, 22050, seed=1)
    np.testing.assert_array_equal(x, shaped_noise(target, 3.0, 22050, seed=1))
    assert not np.array_equal(x, shaped_noise(target, 3.0, 22050, seed=2))
    spec = np.abs(np.fft.rfft(x.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / 22050)
    level = {f: 10 * np.log10(spec[(freqs > f / 1.12) & (freqs < f * 1.12)].mean()) for f in (200, 1000, 4000)}
    expected = {f: float(np.interp(np.log2(f), np.log2([100, 5000]), [-40.0, -70.0])) for f in level}
    assert level[200] - level[4000] == pytest.approx(expected[200] - expected[4000], abs=3.0)
    assert level[1000] - level[4000] == pytest.approx(expected[1000] - expected[4000], abs=3.0)
    assert np.array_equal(long_term_envelope(x, np.array([0.1, 0.2]), np.array([100.0, 100.0])), np.zeros(513))


@cache
def embeddings() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """resemblyzer embeddings of the first and second half of each recording."""
    from vpipe.speech.similarity import embed

    out = {}
    for name in [*CLIPS, "speech_a.wav"]:
        a = audio(name)
        mono = a.mono()
        half = len(mono) // 2
        out[name] = (embed(mono[:half], a.rate), embed(mono[half:], a.rate))
    return out


@pytest.mark.media
def test_the_same_speaker_is_closer_than_any_other() -> None:
    """Two disjoint halves (2.5–3.3 s) of one recording are more similar than halves of any
    two different speakers, with a 0.1 margin (measured: same 0.80–0.91, different 0.40–0.67;
    the interview man against speech_a 0.48)."""
    from vpipe.speech.similarity import cosine

    e = embeddings()
    same = {n: cosine(*e[n]) for n in e}
    cross = {(a, b): cosine(e[a][0], e[b][1]) for a in e for b in e if a != b}
    print({k: round(v, 3) for k, v in same.items()}, round(max(cross.values()), 3))
    assert min(same.values()) > max(cross.values()) + 0.1
    assert cross[("interview_man", "speech_a.wav")] < same["interview_man"] - 0.2


@pytest.mark.media
def test_embeddings_are_unit_vectors_and_channel_layout_does_not_matter() -> None:
    from vpipe.speech.similarity import cosine, embed, similarity

    a = audio("glasses_woman")
    mono = embed(a.mono(), a.rate)
    assert mono.shape == (256,) and np.linalg.norm(mono) == pytest.approx(1.0, abs=1e-4)
    assert cosine(embed(a.samples, a.rate), mono) > 0.999
    assert similarity(a.mono(), a.rate, a.mono()[::2], a.rate // 2) > 0.95  # rate is taken into account
    short = embed(a.mono()[: a.rate // 5], a.rate)  # 0.2 s: the VAD fallback still embeds
    assert short.shape == (256,) and np.all(np.isfinite(short))
