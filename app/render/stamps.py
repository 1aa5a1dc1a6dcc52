"""Small one-page PDFs used as visible signature appearances (Phụ lục I, II.7–8, III.1).

pyHanko draws TrueType text in its own stamps with broken letter spacing here, so every appearance
is laid out by WeasyPrint and handed to the signing adapter as a finished PDF page.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.render.pdf import render_pdf, render_template

MM_TO_PT = 72 / 25.4

_IMAGE_STAMP = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>
@page { size: {{ w }}mm {{ h }}mm; margin: 0; }
html, body { margin: 0; padding: 0; background: transparent; }
img { display: block; width: {{ w }}mm; height: {{ h }}mm; object-fit: contain; }
</style></head><body><img src="qlvb-asset:image" alt=""></body></html>"""

_TEXT_STAMP = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>
@page { size: {{ w }}mm {{ h }}mm; margin: 0; }
html { font-family: "Liberation Serif", "Times New Roman", serif; font-size: 10pt; color: #000;
       line-height: 1.2; }
body { margin: 0; padding: 1.5mm 2mm; }
p { margin: 0; }
</style></head><body>{% for line in lines %}<p>{{ line }}</p>{% endfor %}</body></html>"""


def render_image_stamp(image: bytes, *, width_mm: float, height_mm: float) -> bytes:
    """A transparent page of the given size showing ``image`` (PNG/JPEG) scaled to fit.

    Used for the signer's blue signature (Phụ lục I II.7.d) and the agency's red seal at its
    real size (II.8.a); the transparency of the PNG is kept, so the seal lets the signature show.
    """
    html = render_template(_IMAGE_STAMP, {"w": _mm(width_mm), "h": _mm(height_mm)})
    return render_pdf(html, assets={"image": image})


def render_text_stamp(lines: Sequence[str], *, width_mm: float = 80, height_mm: float = 18) -> bytes:
    """An image-less signature block in Times New Roman 10 pt (attachments and copies, III.1.d).

    e.g. ["Người ký: Sở Thông tin và Truyền thông", "Cơ quan: …", "Thời gian ký: 2026-11-05T09:30:00+07:00"].
    """
    html = render_template(_TEXT_STAMP, {"w": _mm(width_mm), "h": _mm(height_mm), "lines": list(lines)})
    return render_pdf(html)


def seal_box_over(
    signature_box: tuple[float, float, float, float], *, seal_width_mm: float, seal_height_mm: float
) -> tuple[float, float, float, float]:
    """Where the agency seal goes: its right edge covers the left third of the signature (II.8.a).

    Boxes are PDF points (x1, y1, x2, y2) from the bottom-left corner, as ``sign_pdf`` takes them.
    """
    x1, y1, x2, y2 = signature_box
    seal_w, seal_h = seal_width_mm * MM_TO_PT, seal_height_mm * MM_TO_PT
    right = x1 + (x2 - x1) / 3
    centre_y = (y1 + y2) / 2
    return (
        round(right - seal_w, 2),
        round(centre_y - seal_h / 2, 2),
        round(right, 2),
        round(centre_y + seal_h / 2, 2),
    )


def _mm(value: float) -> str:
    if not 1 <= value <= 300:
        raise ValueError("stamp size out of range")
    return f"{float(value):.2f}"
