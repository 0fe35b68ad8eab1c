"""Voice matching on the three test speakers: speed, pitch estimators, and objective quality.

    python benchmarks/voice_match.py [--quick]

Prints (medians of repeated runs, this machine):
1. F0 estimators on piper joe sentences and the real speakers: comb (vpipe.speech.pitch), real
   cepstrum, pyin, harvest, dio+stonemask — medians, frame agreement, cost per audio second.
2. Profile cost per source second.
3. match_voice CPU per word (context analysis cached / not cached).
4. Per speaker × 3 replacement words: resemblyzer similarity before → after (the sentence put
   through the same chain; and the word spliced into 1.5 s of the source, with and without the
   recorded word's F0 as target), F0 of the word before → after by comb / cepstrum / pyin vs
   the speaker's median, loudness error, forced-alignment confidence of the spliced word.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore")

from vpipe.lexicon import Lexicon  # noqa: E402
from vpipe.media.decode import read_audio  # noqa: E402
from vpipe.speech.align import align  # noqa: E402
from vpipe.speech.loudness import speech_loudness  # noqa: E402
from vpipe.speech.pitch import cepstrum_f0, f0_stats, f0_track, local_f0, resample  # noqa: E402
from vpipe.speech.profile import measure_profile  # noqa: E402
from vpipe.speech.similarity import cosine, embed  # noqa: E402
from vpipe.speech.tts import PiperEngine, phonemize  # noqa: E402
from vpipe.speech.voice_match import _STATS_CACHE, match_voice  # noqa: E402

MEDIA = ROOT.parent / "shared" / "media"
SPEAKERS = {
    "interview_man": (
        "interview_man.mp4",
        "my biggest weakness is asking for help when needed i like to do better and i",
        "help",
        "My biggest weakness is asking for {} when needed.",
        ["feedback", "advice", "support"],
    ),
    "glasses_woman": (
        "glasses_woman.mp4",
        "bringing in reforms to tighten that regulation and his",
        "regulation",
        "Bringing in reforms to tighten that {} and his.",
        ["legislation", "oversight", "regime"],
    ),
    "studio_woman": (
        "studio_woman.mp4",
        "sign at him and he represents the european central bank and humanizes the "
        "body of your opponents essential point money",
        "bank",
        "He represents the european central {} and humanizes the body.",
        ["reserve", "authority", "bank"],
    ),
}
JOE_SENTENCES = [
    "My biggest weakness is asking for feedback when needed.",
    "I need your help with this project today.",
    "Bringing in reforms to tighten that legislation and his.",
    "Ask him for help in the morning.",
    "He represents the european central reserve and humanizes the body.",
]


def timed(fn, repeat: int = 5, cpu: bool = False):  # type: ignore[no-untyped-def]
    clock = time.process_time if cpu else time.perf_counter
    out, ts = None, []
    for _ in range(repeat):
        t = clock()
        out = fn()
        ts.append(clock() - t)
    return out, float(np.median(ts))


def pyin(x: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    import librosa

    f0, voiced, _ = librosa.pyin(
        resample(x, rate, 22050), fmin=50, fmax=500, sr=22050, frame_length=1102, hop_length=220
    )
    return np.nan_to_num(f0), voiced


def cep_median(x: np.ndarray, rate: int) -> float:
    q, peak = cepstrum_f0(x, rate)
    y = resample(x, rate, 22050)
    level = np.array([10 * np.log10(np.mean(y[i * 220 : i * 220 + 1102] ** 2) + 1e-12) for i in range(len(q))])
    sel = (peak > 0.1) & (level > level.max() - 25)
    return float(np.median(q[sel])) if sel.any() else 0.0


def agreement(a: np.ndarray, va: np.ndarray, b: np.ndarray, vb: np.ndarray) -> str:
    n = min(len(a), len(b))
    both = va[:n] & vb[:n] & (a[:n] > 0) & (b[:n] > 0)
    if not both.any():
        return "  -  "
    return f"{np.mean(np.abs(a[:n][both] / b[:n][both] - 1) < 0.1):.2f}"


def f0_section(signals: list[tuple[str, np.ndarray, int]]) -> None:
    import pyworld as pw

    print("\n## F0 estimators (median Hz; agreement = share of frames within 10 % of pyin; ms per audio second)")
    print(f"{'signal':28s} {'comb':>11s} {'cepstrum':>8s} {'pyin':>5s} {'harvest':>13s} {'dio':>13s}")
    for label, x, rate in signals:
        y = resample(x, rate, 16000)
        dur = len(x) / rate
        track, t_comb = timed(lambda x=x, rate=rate: f0_track(x, rate), 3)
        p, pv = pyin(x, rate)
        (hf, _), t_h = timed(lambda y=y: pw.harvest(y, 16000, f0_floor=50.0, f0_ceil=500.0, frame_period=10.0), 1)

        def dio(y: np.ndarray = y) -> tuple[np.ndarray, np.ndarray]:
            f, t = pw.dio(y, 16000, f0_floor=50.0, f0_ceil=500.0, frame_period=10.0)
            return pw.stonemask(y, f, t, 16000), t

        (df, _), t_d = timed(dio, 3)
        comb_med = f0_stats(track.voiced_f0()).median
        print(
            f"{label:28s} {comb_med:4.0f} ({agreement(track.f0, track.voiced, p, pv)}) {cep_median(x, rate):8.0f} "
            f"{np.median(p[pv]) if pv.any() else 0:5.0f} {np.median(hf[hf > 0]):4.0f} ({agreement(hf, hf > 0, p, pv)}) "
            f"{np.median(df[df > 0]):4.0f} ({agreement(df, df > 0, p, pv)})   "
            f"ms/s comb {1000 * t_comb / dur:.0f}, harvest {1000 * t_h / dur:.0f}, dio {1000 * t_d / dur:.0f}"
        )


def splice_window(
    src: np.ndarray, rate: int, t0: float, t1: float, word: np.ndarray, word_rate: int, pad: float = 0.5
) -> np.ndarray:
    new = resample(word, word_rate, rate)
    i0, i1 = int(t0 * rate), int(t1 * rate)
    out = np.concatenate([src[:i0], new, src[i1:]])
    return out[max(0, i0 - int(pad * rate)) : i0 + len(new) + int(pad * rate)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one word per speaker, no estimator comparison")
    args = ap.parse_args()
    engine = PiperEngine("en_US-joe-medium")
    sources = {}
    for name, (clip, transcript, *_rest) in SPEAKERS.items():
        audio = read_audio(MEDIA / clip)
        al = align(audio.mono(), audio.rate, transcript, Lexicon(), phonemize)
        sources[name] = (audio, al)

    if not args.quick:
        sigs = [(s[:26], engine.synthesize(s).audio, 22050) for s in JOE_SENTENCES]
        sigs += [(n, a.mono(), a.rate) for n, (a, _) in sources.items()]
        f0_section(sigs)

    print("\n## Profile (median of 5)")
    profiles = {}
    for name, (audio, al) in sources.items():
        speech = [(w.start, w.end) for w in al.words]
        sil = [(p.start, p.end) for p in al.phones if p.label == "SIL"]
        measure_profile(audio.samples, audio.rate, speech, sil)
        prof, t = timed(lambda a=audio, s=speech, q=sil: measure_profile(a.samples, a.rate, s, q))
        profiles[name] = prof
        print(
            f"{name:14s} {t:.3f} s for {audio.duration:.1f} s = {t / audio.duration:.3f} s per source second | "
            f"F0 {prof.f0_median:.0f} [{prof.f0_p10:.0f}-{prof.f0_p90:.0f}] Hz, {prof.loudness_lufs:.1f} LUFS, "
            f"room {prof.noise_dbfs:.1f} dBFS ({len(prof.room_tone) / prof.room_tone_rate:.2f} s), "
            f"tilt {prof.tilt_db_per_octave:.1f} dB/oct"
        )

    print("\n## match_voice CPU per word (median of 7, single process)")
    out = engine.synthesize(SPEAKERS["interview_man"][3].format("feedback"))
    span = next(w for w in out.words if w.token.text.startswith("feedback"))
    word = out.audio[span.start : span.end]
    prof = profiles["interview_man"]
    match_voice(word, out.rate, prof, context=out.audio)
    _, warm = timed(lambda: match_voice(word, out.rate, prof, context=out.audio), 7, cpu=True)

    def cold() -> object:
        _STATS_CACHE.clear()
        return match_voice(word, out.rate, prof, context=out.audio)

    _, t_cold = timed(cold, 7, cpu=True)
    _, t_none = timed(lambda: match_voice(word, out.rate, prof), 7, cpu=True)
    print(
        f"word {len(word) / out.rate:.2f} s: {1000 * warm:.0f} ms (context cached), {1000 * t_cold:.0f} ms "
        f"(context analysed, {len(out.audio) / out.rate:.1f} s), {1000 * t_none:.0f} ms (no context)"
    )

    print("\n## Quality (resemblyzer cosine to the whole source; F0 comb/cepstrum/pyin)")
    for name, (_clip, transcript, slot, template, words) in SPEAKERS.items():
        audio, al = sources[name]
        prof = profiles[name]
        src = audio.mono()
        ref = embed(src, audio.rate)
        k = transcript.split().index(slot)
        seg = al.words[k]
        slot_f0 = local_f0(src, audio.rate, seg.start, seg.end)
        print(f"{name}: speaker F0 {prof.f0_median:.0f} Hz, recorded '{slot}' at {slot_f0:.0f} Hz")
        for new_word in words[:1] if args.quick else words:
            out = engine.synthesize(template.format(new_word))
            span = next(w for w in out.words if w.token.text.strip(".,").lower() == new_word)
            raw = out.audio[span.start : span.end]
            res = match_voice(raw, out.rate, prof, context=out.audio, reference=ref)
            pinned = match_voice(raw, out.rate, prof, context=out.audio, target_f0=slot_f0)
            level = raw * 10 ** ((prof.loudness_lufs - speech_loudness(raw, out.rate)) / 20)
            sims = [
                cosine(embed(splice_window(src, audio.rate, seg.start, seg.end, w, out.rate), audio.rate), ref)
                for w in (level, res.audio, pinned.audio)
            ]
            f0s = []
            for w in (raw, res.audio):
                p, pv = pyin(w, out.rate)
                f0s.append(
                    f"{f0_stats(f0_track(w, out.rate).voiced_f0()).median:.0f}/{cep_median(w, out.rate):.0f}/"
                    f"{np.median(p[pv]) if pv.sum() >= 5 else float('nan'):.0f}"
                )
            spliced = np.concatenate(
                [
                    src[: int(seg.start * audio.rate)],
                    resample(res.audio, out.rate, audio.rate),
                    src[int(seg.end * audio.rate) :],
                ]
            ).astype(np.float32)
            ws = transcript.split()
            ws[k] = new_word
            conf = align(spliced, audio.rate, " ".join(ws), Lexicon(), phonemize).scores[k]
            loud_err = speech_loudness(res.audio, out.rate) - prof.loudness_lufs
            print(
                f"  {new_word:12s} sentence {res.similarity_before:.3f}->{res.similarity_after:.3f} | splice "
                f"{sims[0]:.3f}->{sims[1]:.3f} (slot F0: {sims[2]:.3f}) | F0 {f0s[0]} -> {f0s[1]} Hz "
                f"(target {prof.f0_median:.0f}) | loudness {loud_err:+.2f} dB | align conf {conf:.1f} | "
                f"warp {res.warp:.2f}"
            )


if __name__ == "__main__":
    main()
