"""Chart geometry computed here, drawn as inline SVG by the template (so every label is escaped)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.report.compare import MetricRow


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    cls: str
    title: str  # tooltip (an SVG <title>)


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "start"
    cls: str = ""


@dataclass
class Chart:
    width: float
    height: float
    title: str
    rects: list[Rect] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    lines: list[tuple[float, float, float, float]] = field(default_factory=list)  # x1, y1, x2, y2


def metric_chart(title: str, rows: Sequence[MetricRow], *, has_baseline: bool) -> Chart | None:
    """Horizontal bars, one row per metric: baseline (grey) above candidate (blue)."""
    rows = [r for r in rows if r.cand is not None or r.base is not None]
    if not rows:
        return None
    label_w, bar_w, value_w, row_h = 190.0, 300.0, 60.0, 30.0 if has_baseline else 20.0
    values = [v for r in rows for v in (r.base, r.cand) if v is not None]
    lo, hi = min(0.0, *values), max(1.0, *values)

    def x(v: float) -> float:
        return label_w + (v - lo) / (hi - lo) * bar_w

    chart = Chart(label_w + bar_w + value_w, 24 + row_h * len(rows) + 18, title)
    for i, row in enumerate(rows):
        top = 18 + i * row_h
        chart.texts.append(Text(label_w - 8, top + row_h / 2, _short(row.key, 28), "end", "label"))
        bars = [("base", row.base), ("cand", row.cand)] if has_baseline else [("cand", row.cand)]
        for j, (who, value) in enumerate(bars):
            if value is None:
                continue
            y = top + 3 + j * 12
            left, right = sorted((x(0.0), x(value)))
            name = "baseline" if who == "base" else "candidate"
            chart.rects.append(Rect(left, y, max(right - left, 1.0), 10, who, f"{row.key} ({name}): {value:.3f}"))
            chart.texts.append(Text(label_w + bar_w + 6, y + 9, f"{value:.3f}", "start", f"value {who}"))
    axis_y = 18 + row_h * len(rows) + 4
    chart.lines.append((x(0.0), 14, x(0.0), axis_y))
    for tick in sorted({lo, 0.0, hi}):
        chart.texts.append(Text(x(tick), axis_y + 12, f"{tick:g}", "middle", "tick"))
    return chart


def delta_histogram(deltas: Sequence[float]) -> Chart | None:
    """Per-case change of the mean check value, in bins of 0.1 over [-1, 1]; exact zeros get their own bar."""
    if not deltas:
        return None
    neg, pos, zero = [0] * 10, [0] * 10, 0
    for d in deltas:
        if abs(d) < 1e-9:
            zero += 1
        elif d < 0:
            neg[min(9, int(-d * 10 - 1e-9))] += 1
        else:
            pos[min(9, int(d * 10 - 1e-9))] += 1
    bins = [(f"{-(i + 1) / 10:.1f} to {-i / 10:.1f}", n, "worse") for i, n in reversed(list(enumerate(neg)))]
    bins.append(("unchanged (0)", zero, "same"))
    bins += [(f"{i / 10:.1f} to {(i + 1) / 10:.1f}", n, "better") for i, n in enumerate(pos)]
    left, width, bar, height = 40.0, 21 * 26.0, 22.0, 140.0
    top = max(n for _, n, _ in bins) or 1
    chart = Chart(left + width + 10, height + 56, "Per-case score change (candidate − baseline)")
    for i, (label, n, cls) in enumerate(bins):
        h = height * n / top
        x = left + i * 26.0 + 2
        chart.rects.append(Rect(x, 10 + height - h, bar, max(h, 0.5 if n else 0.0), cls, f"{label}: {n} case(s)"))
        if n:
            chart.texts.append(Text(x + bar / 2, 6 + height - h, str(n), "middle", "count"))
    base_y = 10 + height
    chart.lines.append((left, base_y, left + width, base_y))
    for i, tick in ((0, "−1"), (5, "−0.5"), (10, "0"), (15, "+0.5"), (20, "+1")):
        chart.texts.append(Text(left + i * 26.0 + 2 + bar / 2, base_y + 14, tick, "middle", "tick"))
    chart.texts.append(Text(left + width / 2, base_y + 34, f"{len(deltas)} paired cases", "middle", "tick"))
    return chart


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
