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
html { font-family: "Liberation Serif", "Times New Roman", serif; font-size: {{ size }}pt; color: #000;
       line-height: 1.2; }
body { margin: 0; padding: 1.5mm 1mm 1.5mm {{ indent }}mm; }
p { margin: 0; }
</style></head><body>{% for line in lines %}<p>{{ line }}</p>{% endfor %}</body></html>"""

# The agency's seal when it has no scanned seal image: a red double ring with the agency's name, drawn
# transparent so the signature it overlaps stays readable (Phụ lục I, II.8.a).
_SEAL_STAMP = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>
@page { size: {{ d }}mm {{ d }}mm; margin: 0; }
html { font-family: "Liberation Serif", "Times New Roman", serif; color: #d00000; }
html, body { margin: 0; padding: 0; background: transparent; }
.ring { box-sizing: border-box; width: {{ d }}mm; height: {{ d }}mm; border: 0.8mm solid #d00000;
        border-radius: 50%; padding: 1mm; }
.inner { box-sizing: border-box; width: 100%; height: 100%; border: 0.3mm solid #d00000; border-radius: 50%;
         display: flex; flex-direction: column; justify-content: center; align-items: center; text-align: center;
         padding: 0 3mm; }
.parent { font-size: 6.5pt; text-transform: uppercase; }
.name { font-size: 8pt; font-weight: bold; text-transform: uppercase; line-height: 1.1; }
.star { font-size: 9pt; margin: 0.5mm 0; }
.time { font-size: 5.5pt; color: #d00000; }
</style></head><body><div class="ring"><div class="inner">
{% if parent %}<div class="parent">{{ parent }}</div>{% endif %}
<div class="star">★</div><div class="name">{{ name }}</div>{% if time %}<div class="time">{{ time }}</div>{% endif %}
</div></div></body></html>"""


def render_image_stamp(image: bytes, *, width_mm: float, height_mm: float) -> bytes:
    """A transparent page of the given size showing ``image`` (PNG/JPEG) scaled to fit.

    Used for the signer's blue signature (Phụ lục I II.7.d) and the agency's red seal at its
    real size (II.8.a); the transparency of the PNG is kept, so the seal lets the signature show.
    """
    html = render_template(_IMAGE_STAMP, {"w": _mm(width_mm), "h": _mm(height_mm)})
    return render_pdf(html, assets={"image": image})


def render_text_stamp(lines: Sequence[str], *, width_mm: float = 80, height_mm: float = 18,
                      indent_mm: float = 2, size_pt: float = 10) -> bytes:
    """An image-less signature block in Times New Roman 10 pt (attachments and copies, III.1.d).

    e.g. ["Người ký: Sở Thông tin và Truyền thông", "Cơ quan: …", "Thời gian ký: 2026-11-05T09:30:00+07:00"].
    ``indent_mm`` leaves the left of the box free (the seal covers the left third of a leader's signature).
    """
    html = render_template(_TEXT_STAMP, {"w": _mm(width_mm), "h": _mm(height_mm), "lines": list(lines),
                                         "indent": _mm(max(indent_mm, 1)), "size": f"{min(max(size_pt, 6), 14):.1f}"})
    return render_pdf(html)


def render_seal_stamp(name: str, *, parent: str = "", signed_at: str = "", diameter_mm: float = 36) -> bytes:
    """The agency's seal drawn as a red double ring with its name, for agencies without a seal image."""
    html = render_template(_SEAL_STAMP, {"d": _mm(diameter_mm), "name": name, "parent": parent, "time": signed_at})
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
