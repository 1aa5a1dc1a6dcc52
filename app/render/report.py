"""Registers (Phụ lục IV) and tabular reports as PDF."""

from __future__ import annotations

from app.render.pdf import render_pdf, render_template

_REPORT = """<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{{ title }}</title><style>
@page { size: A4 {{ orientation }}; margin: 15mm 15mm 15mm 20mm;
  @bottom-center { content: counter(page) "/" counter(pages); font-size: 10pt;
                   font-family: "Liberation Serif", "Times New Roman", serif; } }
html { font-family: "Liberation Serif", "Times New Roman", serif; font-size: 11pt; color: #000; }
h1 { font-size: 14pt; font-weight: bold; text-transform: uppercase; text-align: center; margin: 0; }
.subtitle { text-align: center; font-style: italic; font-size: 12pt; margin: 2pt 0 0; }
table { width: 100%; border-collapse: collapse; margin-top: 8pt; }
th, td { border: 0.75pt solid #000; padding: 2pt 3pt; vertical-align: top; }
th { font-weight: bold; text-align: center; background: #f0f0f0; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
td.index { text-align: center; color: #444; }
.note { margin: 2pt 0 0; font-size: 10.5pt; }
</style></head><body>
<h1>{{ title }}</h1>
{% if subtitle %}<p class="subtitle">{{ subtitle }}</p>{% endif %}
{% for line in notes %}<p class="note">{{ line }}</p>{% endfor %}
<table>
<thead>
<tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% if numbered %}<tr>{% for c in columns %}<td class="index">({{ loop.index }})</td>{% endfor %}</tr>{% endif %}
</thead>
<tbody>
{% for row in rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}
</tbody></table></body></html>"""


def render_table_report(
    title: str,
    columns: list[str],
    rows: list[list[str]],
    *,
    landscape: bool = True,
    subtitle: str | None = None,
    notes: list[str] | None = None,
    numbered: bool = True,
) -> bytes:
    """A titled table; the header row repeats on every page, as printed registers need.

    ``notes``: lines under the title (criteria, print time); ``numbered``: the (1) (2) … row of registers."""
    width = len(columns)
    padded = [[str(c) for c in row[:width]] + [""] * (width - len(row)) for row in rows]
    html = render_template(
        _REPORT,
        {
            "title": title,
            "subtitle": subtitle,
            "columns": list(columns),
            "rows": padded,
            "orientation": "landscape" if landscape else "portrait",
            "notes": list(notes or []),
            "numbered": numbered,
        },
    )
    return render_pdf(html)
