"""Outgoing documents in the Decree 30 layout (Nghị định 30/2020/NĐ-CP, Phụ lục I)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import pathlib
import re
from dataclasses import dataclass
from typing import Any

from app.render.pdf import Assets, BoxRef, package_css, render_pdf_layout, render_template

TEMPLATE_DIR = pathlib.Path(__file__).with_name("templates")
SIGNATURE_ANCHOR = "signature-area"


@dataclass(frozen=True)
class DocumentRenderInfo:
    """What an outgoing document shows, as plain values (names as they were on the issue date)."""

    governing_body: str  # cơ quan chủ quản, "" when the agency has none
    agency_name: str
    number_notation: str  # "15/QĐ-UBND"
    place: str  # "Vĩnh Yên"
    issue_date: dt.date
    type_name: str | None  # None for công văn: the summary then goes under the number as "V/v …"
    summary: str
    body: tuple[str, ...]  # paragraphs
    signer_authority: str  # "TM. ỦY BAN NHÂN DÂN", "KT. GIÁM ĐỐC", or ""
    signer_position: str  # "CHỦ TỊCH", "PHÓ GIÁM ĐỐC"
    signer_name: str
    recipients: tuple[str, ...] = ()  # each line as written after "- ", e.g. "Như trên;", "Lưu: VT, VP."
    addressees: tuple[str, ...] = ()  # "Kính gửi" of a công văn
    urgency: str | None = None  # "HỎA TỐC", "THƯỢNG KHẨN", "KHẨN"


@dataclass(frozen=True)
class RenderedDocumentResult:
    pdf: bytes
    page_count: int
    # Where the signer's signature image belongs (between position and name), for sign_pdf's box.
    signature_box: BoxRef | None


def format_place_date(place: str, day: dt.date) -> str:
    """ "Vĩnh Yên, ngày 05 tháng 11 năm 2026": day < 10 and months 1–2 take a leading zero."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


@functools.lru_cache(maxsize=1)
def default_template_source() -> str:
    return (TEMPLATE_DIR / "document_decree30.html").read_text(encoding="utf-8")


def document_context(doc: DocumentRenderInfo) -> dict[str, Any]:
    fields = dataclasses.asdict(doc)
    fields["body"] = list(doc.body)
    fields["recipients"] = list(doc.recipients)
    fields["addressees"] = list(doc.addressees)
    fields["issue_date"] = doc.issue_date.isoformat()
    return {
        "doc": fields,
        "place_date": format_place_date(doc.place, doc.issue_date),
        "css": package_css("document_decree30.css"),
        "paragraphs": [_paragraph(p) for p in doc.body],
        "agency_lines": agency_name_lines(doc.agency_name),
        "authority_lines": [line for line in doc.signer_authority.splitlines() if line.strip()],
        "urgency_width_mm": URGENCY_BOX_MM.get(doc.urgency or "", 30),
    }


# Phụ lục I, ô 10b: the urgency stamp's size depends on the word (30, 40 and 20 mm by 8 mm).
URGENCY_BOX_MM = {"HỎA TỐC": 30, "THƯỢNG KHẨN": 40, "KHẨN": 20}
_ARTICLE = re.compile(r"^(Điều\s+\d+[a-z]?\.)\s*")


def paragraph_kind(text: str) -> str:
    """How Phụ lục I sets a paragraph of the content: căn cứ italic, the "QUYẾT ĐỊNH:" line bold and centred,
    an article's "Điều n." bold; everything else a justified paragraph with a first-line indent."""
    stripped = text.strip()
    if stripped.startswith("Căn cứ") or stripped.startswith("Theo đề nghị"):
        return "basis"
    if stripped.rstrip(":").upper() in ("QUYẾT ĐỊNH", "QUYẾT NGHỊ", "CHỈ THỊ", "BAN HÀNH") and stripped.isupper():
        return "enacting"
    if _ARTICLE.match(stripped):
        return "article"
    return "text"


_BREAK_AFTER = ("Ủy ban nhân dân ", "Hội đồng nhân dân ")


def agency_name_lines(name: str) -> list[str]:
    """Break "Ủy ban nhân dân huyện Yên Lạc" where a clerk would: after the body's kind, not mid-name."""
    for lead in _BREAK_AFTER:
        if name.casefold().startswith(lead.casefold()) and len(name) > len(lead):
            return [name[: len(lead)].strip(), name[len(lead):].strip()]
    return [name]


def _paragraph(text: str) -> dict[str, str]:
    kind = paragraph_kind(text)
    m = _ARTICLE.match(text.strip()) if kind == "article" else None
    lead, rest = (m.group(1), text.strip()[m.end():]) if m else ("", text)
    return {"text": text, "kind": kind, "lead": lead, "rest": rest}


def document_html(doc: DocumentRenderInfo, *, template_source: str | None = None) -> str:
    """The standalone HTML of ``doc`` (styles inline), from the agency's template or the default."""
    return render_template(template_source or default_template_source(), document_context(doc))


def render_document_layout(
    doc: DocumentRenderInfo,
    *,
    template_source: str | None = None,
    assets: Assets | None = None,
) -> RenderedDocumentResult:
    html = document_html(doc, template_source=template_source)
    result = render_pdf_layout(html, assets=assets, anchors=(SIGNATURE_ANCHOR,))
    return RenderedDocumentResult(
        pdf=result.pdf,
        page_count=result.page_count,
        signature_box=result.anchors.get(SIGNATURE_ANCHOR),
    )


def render_document(
    doc: DocumentRenderInfo,
    *,
    template_source: str | None = None,
    assets: Assets | None = None,
) -> bytes:
    """Render an outgoing document to PDF (Decree 30 layout unless the agency supplies a template)."""
    return render_document_layout(doc, template_source=template_source, assets=assets).pdf
