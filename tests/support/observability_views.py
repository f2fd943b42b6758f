"""Views of collected telemetry for the README's screenshots, rendered as plain HTML + SVG.

Jaeger and Grafana do not run on the test machines, so the browser test renders their two
views itself from real data of a run of the suite:

- `trace_html(spans)`: a trace as Jaeger's timeline shows it (one row per span, indented under
  its parent, a bar from its start to its end, coloured by service), from the spans the
  processes exported over OTLP;
- `dashboard_html(dashboard, series)`: the panels of the provisioned Grafana dashboard
  (deploy/observability/grafana/dashboards/customer-center.json), each with the series its own
  PromQL queries returned from a real Prometheus that scraped the suite.

Nothing here is imported by production code.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PALETTE = ["#7eb26d", "#eab839", "#6ed0e0", "#ef843c", "#e24d42", "#1f78c1", "#ba43a9", "#705da0", "#508642"]
SERVICE_COLOURS = {
    "gateway": "#1f78c1",
    "identity": "#e24d42",
    "contract": "#7eb26d",
    "package": "#eab839",
    "merge": "#ba43a9",
}


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    start_ns: int
    end_ns: int

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6


@dataclass(frozen=True)
class Series:
    """One line of a panel: its legend and (unix time, value) points."""

    legend: str
    points: Sequence[tuple[float, float]]


def _ordered(spans: Sequence[Span]) -> list[tuple[Span, int]]:
    """Depth-first by start time: each span under its parent (roots: no parent in the set)."""
    ids = {s.span_id for s in spans}
    children: dict[str, list[Span]] = {}
    for span in spans:
        children.setdefault(span.parent_id if span.parent_id in ids else "", []).append(span)
    out: list[tuple[Span, int]] = []

    def walk(parent: str, depth: int) -> None:
        for span in sorted(children.get(parent, []), key=lambda s: s.start_ns):
            out.append((span, depth))
            walk(span.span_id, depth + 1)

    walk("", 0)
    return out


def trace_html(spans: Sequence[Span], title: str, folded: dict[str, int] | None = None) -> str:
    """`folded`: span id -> how many child spans (the SQL statements) are folded into its row."""
    folded = folded or {}
    rows = _ordered(spans)
    start = min(s.start_ns for s in spans)
    end = max(s.end_ns for s in spans)
    total = max(end - start, 1)
    services = sorted({s.service for s in spans})
    body = []
    for span, depth in rows:
        left = 100 * (span.start_ns - start) / total
        width = max(100 * (span.end_ns - span.start_ns) / total, 0.3)
        colour = SERVICE_COLOURS.get(span.service, PALETTE[hash(span.service) % len(PALETTE)])
        body.append(
            f'<tr><td class="name" style="padding-left:{8 + 16 * depth}px">'
            f'<span class="dot" style="background:{colour}"></span><b>{html.escape(span.service)}</b> '
            f"{html.escape(span.name)}"
            + (f" <small>+{folded[span.span_id]} SQL</small>" if folded.get(span.span_id) else "")
            + "</td>"
            f'<td class="lane"><div class="bar" style="left:{left:.3f}%;width:{width:.3f}%;background:{colour}">'
            f'</div><span class="ms" style="left:{min(left + width, 92):.3f}%">{span.duration_ms:.1f} ms</span></td></tr>'
        )
    legend = " ".join(
        f'<span class="dot" style="background:{SERVICE_COLOURS.get(s, "#999")}"></span>{html.escape(s)}'
        for s in services
    )
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>
body {{ font: 13px/1.4 system-ui, sans-serif; margin: 0; background: #fff; color: #222; }}
header {{ background: #1d1e22; color: #eee; padding: 10px 16px; }}
header h1 {{ font-size: 16px; margin: 0 0 4px; }} header small {{ color: #aaa; }}
table {{ border-collapse: collapse; width: 100%; table-layout: fixed; }}
td {{ border-bottom: 1px solid #eee; padding: 4px 8px; white-space: nowrap; overflow: hidden; }}
td.name {{ width: 42%; }} td.name small {{ color: #888; }} td.lane {{ position: relative; }}
.bar {{ position: absolute; top: 6px; height: 12px; border-radius: 2px; }}
.ms {{ position: absolute; top: 3px; margin-left: 6px; color: #555; font-size: 11px; }}
.dot {{ display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin: 0 4px 0 8px; }}
</style></head><body><header><h1>{html.escape(title)}</h1>
<small>trace {html.escape(spans[0].trace_id)} &middot; {len(spans) + sum(folded.values())} spans
({sum(folded.values())} SQL statements folded into their callers) &middot; {total / 1e6:.1f} ms &middot;
{legend}</small></header><table>{"".join(body)}</table></body></html>"""


def _polyline(
    points: Sequence[tuple[float, float]], x0: float, x1: float, top: float, width: int, height: int
) -> str:
    span = max(x1 - x0, 1e-9)
    scale = top if top > 0 else 1.0
    coords = " ".join(
        f"{(t - x0) / span * width:.1f},{height - (v / scale) * (height - 4) - 2:.1f}" for t, v in points
    )
    return coords


def dashboard_html(dashboard: dict, series_by_panel: dict[str, list[Series]], subtitle: str) -> str:
    cells = []
    for panel in dashboard.get("panels", []):
        title = panel.get("title", "")
        if panel.get("type") == "row":
            cells.append(f'<h2 class="row">{html.escape(title)}</h2>')
            continue
        series = series_by_panel.get(title, [])
        all_points = [p for s in series for p in s.points]
        width, height = 520, 150
        if all_points:
            x0 = min(t for t, _ in all_points)
            x1 = max(t for t, _ in all_points)
            top = max(v for _, v in all_points) * 1.1
            lines = "".join(
                f'<polyline fill="none" stroke="{PALETTE[i % len(PALETTE)]}" stroke-width="2" '
                f'points="{_polyline(s.points, x0, x1, top, width, height)}"/>'
                for i, s in enumerate(series)
            )
            legend = "".join(
                f'<span><i style="background:{PALETTE[i % len(PALETTE)]}"></i>{html.escape(s.legend)} '
                f"<b>{s.points[-1][1]:.3g}</b></span>"
                for i, s in enumerate(series[:8])
            )
            axis = f'<text x="2" y="12" class="axis">{top / 1.1:.3g}</text>'
        else:
            lines, legend, axis = "", '<span class="none">no data</span>', ""
        queries = "<br>".join(html.escape(t.get("expr", "")) for t in panel.get("targets", []))
        cells.append(
            f'<section class="panel"><h3>{html.escape(title)}</h3>'
            f'<svg viewBox="0 0 {width} {height}" width="100%" height="{height}" preserveAspectRatio="none">'
            f'<line x1="0" y1="{height - 1}" x2="{width}" y2="{height - 1}" class="grid"/>{axis}{lines}</svg>'
            f'<div class="legend">{legend}</div><code>{queries}</code></section>'
        )
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(dashboard.get("title", ""))}</title>
<style>
body {{ font: 13px/1.4 system-ui, sans-serif; margin: 0; background: #111217; color: #ccccdc; }}
header {{ padding: 10px 16px; background: #181b1f; border-bottom: 1px solid #2c3235; }}
header h1 {{ font-size: 17px; margin: 0; }} header small {{ color: #8e8e8e; }}
main {{ display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 10px; padding: 10px 16px; }}
h2.row {{ grid-column: 1 / -1; font-size: 14px; margin: 8px 0 0; color: #d8d9da; }}
.panel {{ background: #181b1f; border: 1px solid #2c3235; border-radius: 3px; padding: 8px 10px; }}
.panel h3 {{ margin: 0 0 6px; font-size: 13px; color: #d8d9da; }}
.grid {{ stroke: #2c3235; }} .axis {{ fill: #8e8e8e; font-size: 10px; }}
.legend span {{ margin-right: 12px; white-space: nowrap; }} .legend i {{ display: inline-block; width: 12px;
height: 3px; margin-right: 4px; vertical-align: middle; }} .none {{ color: #8e8e8e; }}
code {{ display: block; margin-top: 4px; color: #6e6e7e; font-size: 10px; overflow: hidden; white-space: nowrap;
text-overflow: ellipsis; }}
</style></head><body><header><h1>{html.escape(dashboard.get("title", ""))}</h1><small>{html.escape(subtitle)}</small>
</header><main>{"".join(cells)}</main></body></html>"""


def series_from_matrix(result: Iterable[dict], legend_labels: Sequence[str]) -> list[Series]:
    """Prometheus's query_range `matrix` result as Series, legends from the named labels."""
    out = []
    for item in result:
        metric = item.get("metric", {})
        legend = ", ".join(f"{metric[k]}" for k in legend_labels if k in metric) or "value"
        points = [(float(t), float(v)) for t, v in item.get("values", []) if v not in ("NaN", "+Inf", "-Inf")]
        if points:
            out.append(Series(legend, points))
    return out
