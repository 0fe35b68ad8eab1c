"""The report's plots as small standalone SVG: the audio waveform with the slots marked
(output above, source below: before/after), and the mouth aperture measured in the
re-animated windows against the aperture the heard phones predict."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from html import escape
from typing import Any

import numpy as np

WIDTH, HEIGHT = 720, 150
PEAKS = 600  # columns of the waveform envelope


def envelope(samples: np.ndarray, columns: int = PEAKS) -> np.ndarray:
    """Peak absolute amplitude per column (mono float samples)."""
    x = np.abs(np.asarray(samples, np.float32).reshape(-1))
    if len(x) == 0:
        return np.zeros(columns, np.float32)
    edges = np.linspace(0, len(x), columns + 1).astype(int)
    return np.array([x[a:b].max() if b > a else 0.0 for a, b in itertools.pairwise(edges)], np.float32)


def _svg(body: list[str], height: int = HEIGHT, title: str = "") -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'font-family="sans-serif" font-size="11"><title>{escape(title)}</title>'
        f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>' + "".join(body) + "</svg>"
    )


def _wave_path(env: np.ndarray, y_mid: float, half: float) -> str:
    n = len(env)
    scale = half / max(float(env.max()) if len(env) else 0.0, 1e-6)
    top = " ".join(f"{WIDTH * i / n:.1f},{y_mid - v * scale:.1f}" for i, v in enumerate(env))
    bottom = " ".join(f"{WIDTH * i / n:.1f},{y_mid + v * scale:.1f}" for i, v in reversed(list(enumerate(env))))
    return f"M{top} L{bottom} Z"


def waveform_svg(
    output: np.ndarray,
    source: np.ndarray | None,
    rate: int,
    slots: Sequence[dict[str, Any]],
    title: str = "",
    source_rate: int | None = None,
) -> str:
    """Output waveform (top) and source waveform (bottom) on one time axis, the slots shaded
    where they sit in each. `source_rate`: the source's, when not `rate` (a WebM's Opus)."""
    source_rate = source_rate or rate
    duration = max(len(output) / max(rate, 1), len(source) / max(source_rate, 1) if source is not None else 0.0)
    duration = max(duration, 1e-6)
    lanes = [("output", output, "start", "end", rate)] + (
        [("source", source, "source_start", "source_end", source_rate)] if source is not None else []
    )
    lane_h = (HEIGHT - 20) / len(lanes)
    body = []
    for i, (label, samples, a, b, lane_rate) in enumerate(lanes):
        y0 = i * lane_h
        for s in slots:
            x0, x1 = WIDTH * float(s[a]) / duration, WIDTH * float(s[b]) / duration
            body.append(
                f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{max(x1 - x0, 1):.1f}" height="{lane_h:.1f}" '
                f'fill="#f4b400" fill-opacity="0.25"><title>{escape(str(s.get("slot")))}: '
                f"{escape(str(s.get('said') if label == 'output' else s.get('replaced')))}</title></rect>"
            )
        cols = max(1, int(PEAKS * (len(samples) / lane_rate) / duration))
        env = envelope(samples, cols)
        env = np.concatenate([env, np.zeros(PEAKS - len(env), np.float32)]) if len(env) < PEAKS else env
        color = "#1a73e8" if label == "output" else "#777"
        body.append(f'<path d="{_wave_path(env, y0 + lane_h / 2, lane_h / 2 - 4)}" fill="{color}"/>')
        body.append(f'<text x="4" y="{y0 + 12:.0f}" fill="#333">{label}</text>')
        for s in slots:
            x0 = WIDTH * float(s[a]) / duration
            word = s.get("said") if label == "output" else s.get("replaced")
            body.append(f'<text x="{x0 + 2:.1f}" y="{y0 + lane_h - 4:.0f}" fill="#8a5a00">{escape(str(word))}</text>')
    for t in range(int(duration) + 1):
        x = WIDTH * t / duration
        body.append(f'<text x="{x + 2:.1f}" y="{HEIGHT - 4}" fill="#999">{t}s</text>')
    return _svg(body, title=title or "waveform with the slots marked")


def aperture_svg(
    times: Sequence[float],
    measured: Sequence[float | None],
    predicted: Sequence[float | None],
    slots: Sequence[dict[str, Any]],
    title: str = "",
) -> str:
    """Measured mouth aperture (output frames, tracked) and the aperture predicted from the
    heard phones, each scaled to its own range, over the re-animated windows."""
    t = np.asarray(times, np.float64)
    if len(t) < 2:
        return _svg(['<text x="8" y="20">no re-animated frames to plot</text>'], 40, title)
    lo, hi = float(t.min()), float(t.max())
    lo, hi = lo - 0.05, hi + 0.05
    body = []
    for s in slots:
        a, b = max(lo, float(s["start"])), min(hi, float(s["end"]))
        if b > a:
            x0, x1 = WIDTH * (a - lo) / (hi - lo), WIDTH * (b - lo) / (hi - lo)
            body.append(
                f'<rect x="{x0:.1f}" y="0" width="{x1 - x0:.1f}" height="{HEIGHT - 18}" fill="#f4b400" '
                f'fill-opacity="0.2"><title>{escape(str(s.get("slot")))}</title></rect>'
            )

    def line(values: Sequence[float | None], color: str, dash: str = "") -> str:
        v = np.array([np.nan if x is None else float(x) for x in values], np.float64)
        ok = np.isfinite(v)
        if ok.sum() < 2:
            return ""
        a, b = float(v[ok].min()), float(v[ok].max())
        y = (HEIGHT - 28) * (1 - (v - a) / max(b - a, 1e-9)) + 6
        pts = " ".join(
            f"{WIDTH * (tt - lo) / (hi - lo):.1f},{yy:.1f}" for tt, yy, good in zip(t, y, ok, strict=True) if good
        )
        return f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2" {dash}/>'

    body.append(line(predicted, "#999", 'stroke-dasharray="5 3"'))
    body.append(line(measured, "#d93025"))
    body.append(f'<text x="6" y="{HEIGHT - 4}" fill="#d93025">measured aperture</text>')
    body.append(f'<text x="140" y="{HEIGHT - 4}" fill="#777">predicted from the phones (dashed)</text>')
    body.append(f'<text x="{WIDTH - 110}" y="{HEIGHT - 4}" fill="#999">{lo:.2f}–{hi:.2f} s</text>')
    return _svg(body, title=title or "mouth aperture vs predicted")
