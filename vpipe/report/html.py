"""The report page: one self-contained HTML file (inline style and script, no network) that
links the row pictures and videos beside it by relative path.

An overview table of every row (status, QC verdict, values, headline figures), flagged and
failed rows first, sortable by any column and filterable by text and verdict; below it one
section per row: the contact sheet, the waveform and aperture plots, the video, what was
said and decided, every measurement. Above: the plan and the source's baselines."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from vpipe.report.collect import FIGURES, ReportData, RowView

EAGER_ROWS = 3  # the first rows (flagged first) open with their pictures; the others open on a click

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#202124;background:#f8f9fa}
header{background:#202124;color:#fff;padding:12px 20px}header h1{font-size:18px;margin:0 0 4px}
main{padding:12px 20px}section{background:#fff;border:1px solid #dadce0;border-radius:6px;margin:12px 0;padding:10px 14px}
table{border-collapse:collapse;width:100%}th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{cursor:pointer;background:#f1f3f4;position:sticky;top:0;user-select:none}th.sorted-asc::after{content:" ▲"}th.sorted-desc::after{content:" ▼"}
td.num{text-align:right;font-variant-numeric:tabular-nums}.bad{color:#c5221f;font-weight:600}
.v-passed{color:#188038}.v-flagged{color:#e37400;font-weight:600}.v-failed{color:#c5221f;font-weight:600}.v-unmeasured{color:#5f6368}
.controls{display:flex;gap:8px;margin:8px 0}.controls input{flex:1;padding:4px 8px}
details.row{background:#fff;border:1px solid #dadce0;border-radius:6px;margin:8px 0;padding:8px 14px}
details.row>summary{cursor:pointer;font-size:15px}.pics img{display:block;max-width:100%;margin:6px 0;border:1px solid #eee}
video{max-width:480px;max-height:360px;background:#000}.kv td:first-child{color:#5f6368;white-space:nowrap}
pre{white-space:pre-wrap;background:#f1f3f4;padding:8px;border-radius:4px;font-size:12px}
.failures li{color:#c5221f}.muted{color:#5f6368}
"""

SCRIPT = """
(function(){
  var t0 = performance.now();
  var table = document.getElementById('overview'), body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var filter = document.getElementById('filter'), verdict = document.getElementById('verdict');
  function apply(){
    var q = filter.value.toLowerCase(), v = verdict.value, shown = 0;
    rows.forEach(function(r){
      var ok = (!q || r.textContent.toLowerCase().indexOf(q) >= 0) && (!v || r.dataset.verdict === v);
      r.style.display = ok ? '' : 'none'; if (ok) shown++;
    });
    document.getElementById('shown').textContent = shown + ' of ' + rows.length + ' rows';
  }
  filter.addEventListener('input', apply); verdict.addEventListener('change', apply);
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function(th, i){
    th.addEventListener('click', function(){
      var asc = !th.classList.contains('sorted-asc');
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function(h){ h.classList.remove('sorted-asc','sorted-desc'); });
      th.classList.add(asc ? 'sorted-asc' : 'sorted-desc');
      rows.sort(function(a, b){
        var x = a.cells[i].dataset.sort, y = b.cells[i].dataset.sort;
        var nx = parseFloat(x), ny = parseFloat(y), c;
        if (!isNaN(nx) && !isNaN(ny)) c = nx - ny; else c = String(x).localeCompare(String(y));
        return asc ? c : -c;
      });
      rows.forEach(function(r){ body.appendChild(r); });
    });
  });
  apply();
  window.addEventListener('load', function(){
    var imgs = document.querySelectorAll('img[loading=eager]'), ok = 0;
    imgs.forEach(function(im){ if (im.complete && im.naturalWidth > 0) ok++; });
    document.body.dataset.eagerImages = ok + '/' + imgs.length;
    document.body.dataset.loadedMs = Math.round(performance.now());
    document.body.dataset.scriptMs = Math.round(performance.now() - t0);
  });
  function openRow(){
    var el = location.hash && document.getElementById(location.hash.slice(1));
    if (el && el.tagName === 'DETAILS') { el.open = true; el.scrollIntoView(); }
  }
  window.addEventListener('hashchange', openRow); openRow();
  document.body.dataset.rows = rows.length;
})();
"""


def _fmt(value: float | None, pattern: str) -> str:
    return "–" if value is None else pattern.format(value)


def _sort_key(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def _values(row: RowView) -> str:
    values = row.record.get("values") or {}
    return ", ".join(f"{k}={v}" for k, v in values.items())


def overview(data: ReportData) -> str:
    heads = ["#", "id", "status", "QC", "values", *(f[0] for f in FIGURES), "seconds"]
    out = ['<table id="overview"><thead><tr>', *(f"<th>{escape(h)}</th>" for h in heads), "</tr></thead><tbody>"]
    for row in data.rows:
        r = row.record
        cells = [
            f'<td class="num" data-sort="{r.get("row")}">{r.get("row")}</td>',
            f'<td data-sort="{escape(row.id)}"><a href="#row-{escape(row.id)}">{escape(row.id)}</a></td>',
            f'<td data-sort="{escape(str(r.get("status")))}">{escape(str(r.get("status")))}</td>',
            f'<td data-sort="{escape(row.verdict)}" class="v-{escape(row.verdict)}">{escape(row.verdict)}</td>',
            f'<td data-sort="{escape(_values(row))}">{escape(_values(row))}</td>',
        ]
        for title, _, _, pattern, _ in FIGURES:
            value = row.figures.get(title)
            cells.append(f'<td class="num" data-sort="{_sort_key(value)}">{_fmt(value, pattern)}</td>')
        seconds = r.get("seconds")
        cells.append(f'<td class="num" data-sort="{seconds}">{_fmt(seconds, "{:.2f}")}</td>')
        out.append(f'<tr data-verdict="{escape(row.verdict)}">' + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def row_section(row: RowView, assets: dict[str, str], eager: bool) -> str:
    r = row.record
    loading = "eager" if eager else "lazy"
    figures = " · ".join(
        f"{title} {_fmt(row.figures.get(title), pattern)}"
        for title, _, _, pattern, _ in FIGURES
        if row.figures.get(title) is not None
    )
    parts = [
        f'<details class="row" id="row-{escape(row.id)}"{" open" if eager else ""}><summary><b>row {r.get("row")} · '
        f'{escape(row.id)}</b> · <span class="v-{escape(row.verdict)}">{escape(row.verdict)}</span> · '
        f'<span class="muted">{escape(_values(row))} · {escape(figures)}</span></summary>'
    ]
    if row.failures:
        parts.append('<ul class="failures">' + "".join(f"<li>{escape(f)}</li>" for f in row.failures) + "</ul>")
    diags = r.get("diagnostics") or []
    if diags:
        parts.append(
            '<ul class="failures">'
            + "".join(f"<li>{escape(str(d.get('code')))} {escape(str(d.get('message')))}</li>" for d in diags)
            + "</ul>"
        )
    kv = [("values", _values(row)), ("script", r.get("script") or "")]
    for d in r.get("duration") or []:
        kv.append(
            (
                f"duration: {d.get('slot')}",
                f"“{d.get('said')}” {d.get('decision')}: {d.get('new_seconds')} s for the recorded "
                f"{d.get('recorded_seconds')} s (stretch {d.get('stretch')})",
            )
        )
    kv.append(("output", r.get("output") or "–"))
    kv.append(("timings", ", ".join(f"{k} {v:.2f}s" for k, v in (r.get("timings") or {}).items())))
    parts.append(
        '<table class="kv">'
        + "".join(f"<tr><td>{escape(k)}</td><td>{escape(str(v))}</td></tr>" for k, v in kv)
        + "</table>"
    )
    parts.append('<div class="pics">')
    if "sheet" in assets:
        parts.append(
            f'<img loading="{loading}" src="{escape(assets["sheet"])}" alt="contact sheet of row {escape(row.id)}: '
            f'before (source) above, after (output) below; worst frames first">'
        )
    if "wave" in assets:
        parts.append(f'<img loading="{loading}" src="{escape(assets["wave"])}" alt="waveform of row {escape(row.id)}">')
    if "mouth" in assets:
        parts.append(
            f'<img loading="{loading}" src="{escape(assets["mouth"])}" alt="mouth aperture of row {escape(row.id)}">'
        )
    parts.append("</div>")
    if "video" in assets:
        parts.append(f'<video controls preload="none" src="{escape(assets["video"])}"></video>')
    metrics = row.metrics
    if metrics:
        parts.append(
            '<details><summary>all measurements</summary><table class="kv">'
            + "".join(f"<tr><td>{escape(k)}</td><td>{escape(str(v))}</td></tr>" for k, v in sorted(metrics.items()))
            + "</table></details>"
        )
    parts.append("</details>")
    return "".join(parts)


def page(data: ReportData, assets: dict[str, dict[str, str]], plan_text: str | None, baselines: dict[str, Any]) -> str:
    h = data.header
    c = data.counts
    title = f"vpipe review · {h.get('recipe', '')}"
    status = data.status if data.status == "complete" else f"{data.status.upper()}"
    summary = (
        f"{c['rows']} rows · {c['qc_passed']} passed · {c['qc_flagged']} flagged · {c['qc_failed']} failed QC · "
        f"{c['failed']} failed · run {escape(str(h.get('run') or h.get('started') or ''))} ({escape(status)})"
    )
    base = (
        "".join(f"<tr><td>{escape(k)}</td><td>{_fmt(v, '{:.3f}')}</td></tr>" for k, v in baselines.items())
        or '<tr><td class="muted">no visual measurements in this run</td></tr>'
    )
    sections = "".join(row_section(r, assets.get(r.id, {}), i < EAGER_ROWS) for i, r in enumerate(data.rows))
    plan = f"<pre>{escape(plan_text)}</pre>" if plan_text else '<p class="muted">no plan recorded</p>'
    meta = json.dumps({"rows": c["rows"], "status": data.status})
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{escape(title)}</title><style>{STYLE}</style></head>
<body data-report='{escape(meta)}'>
<header><h1>{escape(title)}</h1><div>{summary}</div></header>
<main>
<section><h2>Rows</h2>
<div class="controls"><input id="filter" placeholder="filter: id, value, status…">
<select id="verdict"><option value="">all</option><option>failed</option><option>flagged</option><option>passed</option><option>unmeasured</option></select>
<span id="shown" class="muted"></span></div>
{overview(data)}
</section>
<section><h2>Source baselines</h2><table class="kv">{base}</table>
<p class="muted">The rows are judged against these: lip-sync relative to the source's natural value, the
untouched frames against the source frames, loudness against the speech around each slot.</p></section>
<section><h2>Plan</h2>{plan}</section>
<h2>Rows in detail</h2>
<p class="muted">Contact sheet: before (the source) above, after (the output) below; the worst frame by each
visual measure first (red label), then frames over the slots. Waveforms: output above, source below, the
slots shaded. Mouth: the aperture measured on the output against the one the heard phones predict.</p>
{sections}
</main>
<script>{SCRIPT}</script>
</body></html>
"""
