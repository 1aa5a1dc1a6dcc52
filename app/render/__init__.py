"""PDF output. The only package that imports WeasyPrint; callers get bytes and frozen dataclasses."""

from app.render.document import (
    DocumentRenderInfo,
    RenderedDocumentResult,
    document_html,
    format_place_date,
    render_document,
    render_document_layout,
)
from app.render.errors import AssetRefusedError, RenderError, TemplateSyntaxError, TemplateUnsafeError
from app.render.pdf import BoxRef, RenderedPdfResult, render_pdf, render_pdf_layout, render_template_pdf
from app.render.report import render_table_report
from app.render.stamps import render_image_stamp, render_seal_stamp, render_text_stamp, seal_box_over

__all__ = [
    "AssetRefusedError",
    "BoxRef",
    "DocumentRenderInfo",
    "RenderError",
    "RenderedDocumentResult",
    "RenderedPdfResult",
    "TemplateSyntaxError",
    "TemplateUnsafeError",
    "document_html",
    "format_place_date",
    "render_document",
    "render_document_layout",
    "render_image_stamp",
    "render_pdf",
    "render_pdf_layout",
    "render_seal_stamp",
    "render_table_report",
    "render_template_pdf",
    "render_text_stamp",
    "seal_box_over",
]
