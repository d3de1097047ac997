"""Charts drawn server-side as SVG (no script, no inline style: CSP-friendly, readable without JS).
Colours come from classes in static/botaudit/botaudit.css."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

W, H, PAD_L, PAD_B, PAD_T = 640, 220, 36, 28, 12


def _frame(*, title: str, max_value: int, body: SafeString, legend: SafeString) -> SafeString:
    ticks = format_html_join(
        "", '<line class="gridline" x1="{}" x2="{}" y1="{}" y2="{}"/><text class="tick" x="{}" y="{}">{}</text>',
        ((PAD_L, W, y, y, PAD_L - 4, y + 4, v) for v, y in _ticks(max_value)),
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}"><title>{}</title>{}{}{}</svg>',
        W, H + 18, title, title, ticks, body, legend,
    )


def _ticks(max_value: int):
    top = max(max_value, 1)
    for frac in (0, 0.5, 1):
        value = round(top * frac)
        yield value, _y(value, top)


def _y(value: float, top: int) -> float:
    return round(PAD_T + (H - PAD_T - PAD_B) * (1 - value / max(top, 1)), 1)


def weekly_chart_svg(weeks: list[dict]) -> SafeString:
    """Grouped bars: findings opened vs resolved per week."""
    top = max([w["opened"] for w in weeks] + [w["resolved"] for w in weeks] + [1])
    slot = (W - PAD_L) / max(len(weeks), 1)
    bar = slot * 0.35
    parts = []
    for i, w in enumerate(weeks):
        x = PAD_L + i * slot + slot * 0.12
        for j, key in enumerate(("opened", "resolved")):
            y = _y(w[key], top)
            parts.append(format_html(
                '<rect class="bar {}" x="{}" y="{}" width="{}" height="{}"><title>{} {}: {}</title></rect>',
                key, round(x + j * bar, 1), y, round(bar, 1), round(H - PAD_B - y, 1), w["week"], key, w[key]))
        parts.append(format_html('<text class="tick" x="{}" y="{}">{}</text>', round(x, 1), H - 10,
                                 w["week"].strftime("%d %b")))
    legend = format_html('<rect class="bar opened" x="{}" y="{}" width="10" height="10"/>'
                         '<text class="tick" x="{}" y="{}">opened</text>'
                         '<rect class="bar resolved" x="{}" y="{}" width="10" height="10"/>'
                         '<text class="tick" x="{}" y="{}">resolved</text>',
                         PAD_L, H + 2, PAD_L + 14, H + 11, PAD_L + 80, H + 2, PAD_L + 94, H + 11)
    return _frame(title="Findings opened vs resolved per week", max_value=top,
                  body=mark_safe("".join(parts)), legend=legend)  # noqa: S308 - parts are format_html output


def score_chart_svg(points: list[tuple]) -> SafeString:
    """A line of risk scores (0-100) over audit runs: points = [(label, score), ...] oldest first."""
    if not points:
        return format_html('<p class="muted">{}</p>', "No scores yet: run an audit.")
    step = (W - PAD_L - 10) / max(len(points) - 1, 1)
    coords = [(round(PAD_L + 5 + i * step, 1), _y(score, 100)) for i, (_, score) in enumerate(points)]
    path = " ".join(f"{x},{y}" for x, y in coords)
    dots = format_html_join("", '<circle class="dot" cx="{}" cy="{}" r="3"><title>{}: {}</title></circle>',
                            ((x, y, label, score) for (x, y), (label, score) in zip(coords, points, strict=True)))
    body = format_html('<polyline class="line" points="{}"/>{}', path, dots)
    return _frame(title="Risk score history", max_value=100, body=body, legend=mark_safe(""))  # noqa: S308
