"""Outgoing documents in the Decree 30 layout (Nghị định 30/2020/NĐ-CP, Phụ lục I)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import pathlib
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
    }


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
