"""HTML → PDF with WeasyPrint: a fixed font set, a safe URL fetcher, sandboxed agency templates."""

from __future__ import annotations

import functools
import logging
import pathlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jinja2
import jinja2.sandbox
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from app.core.text import nfc, nfc_any
from app.render.errors import AssetRefusedError, RenderError, TemplateSyntaxError, TemplateUnsafeError
from app.render.fetcher import STATIC_DIR, RefusedURLError, SafeURLFetcher

log = logging.getLogger(__name__)

PX_TO_PT = 0.75  # WeasyPrint lays out in CSS px (1/96 in); PDF user space is pt (1/72 in)

Assets = Mapping[str, bytes | pathlib.Path]


@dataclass(frozen=True)
class BoxRef:
    """A rectangle on a PDF page: 0-based page index, then x1, y1, x2, y2 in pt from bottom-left."""

    page: int
    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1


@dataclass(frozen=True)
class RenderedPdfResult:
    pdf: bytes
    page_count: int
    # Elements of the template marked with id="…" that callers asked to locate (signature areas).
    anchors: Mapping[str, BoxRef]


class _Fonts:
    """One FontConfiguration for the process: @font-face files are registered once, not per render."""

    _lock = threading.Lock()
    _state: tuple[FontConfiguration, CSS] | None = None

    @classmethod
    def get(cls) -> tuple[FontConfiguration, CSS]:
        if cls._state is None:
            with cls._lock:
                if cls._state is None:
                    font_config = FontConfiguration()
                    css = CSS(
                        filename=str(STATIC_DIR / "fonts.css"),
                        url_fetcher=SafeURLFetcher(),
                        font_config=font_config,
                    )
                    cls._state = (font_config, css)
        return cls._state


@functools.lru_cache(maxsize=32)
def package_css(name: str) -> str:
    """The text of a stylesheet shipped in ``app/render/static`` (inlined so the HTML is standalone)."""
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def render_pdf(
    html: str,
    *,
    assets: Assets | None = None,
    stylesheets: Sequence[str] = (),
) -> bytes:
    """Render ``html`` to PDF bytes. Resources load only from ``assets`` (``qlvb-asset:<name>``)."""
    return render_pdf_layout(html, assets=assets, stylesheets=stylesheets).pdf


def render_pdf_layout(
    html: str,
    *,
    assets: Assets | None = None,
    stylesheets: Sequence[str] = (),
    anchors: Sequence[str] = (),
) -> RenderedPdfResult:
    """Like :func:`render_pdf`, and also report where the elements with the given ids landed."""
    font_config, font_css = _Fonts.get()
    fetcher = SafeURLFetcher(assets)
    try:
        extra = [CSS(string=source, url_fetcher=fetcher, font_config=font_config) for source in stylesheets]
        document = HTML(string=nfc(html), url_fetcher=fetcher, base_url=None).render(
            stylesheets=[font_css, *extra], font_config=font_config
        )
        found = _locate(document, anchors)
        pdf = document.write_pdf()
    except RefusedURLError as exc:
        raise AssetRefusedError(
            "Mẫu văn bản tham chiếu tài nguyên không được phép (chỉ dùng tệp đính kèm của mẫu)",
            details=[exc.url[:200]],
        ) from None
    return RenderedPdfResult(pdf=pdf, page_count=len(document.pages), anchors=found)


def _locate(document: Any, ids: Sequence[str]) -> dict[str, BoxRef]:
    wanted = set(ids)
    found: dict[str, BoxRef] = {}
    if not wanted:
        return found
    for index, page in enumerate(document.pages):
        page_height = page.height
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            if element is None or element.get("id") not in wanted or element.get("id") in found:
                continue
            x, y = box.border_box_x(), box.border_box_y()
            width, height = box.border_width(), box.border_height()
            found[element.get("id")] = BoxRef(
                page=index,
                x1=round(x * PX_TO_PT, 2),
                y1=round((page_height - y - height) * PX_TO_PT, 2),
                x2=round((x + width) * PX_TO_PT, 2),
                y2=round((page_height - y) * PX_TO_PT, 2),
            )
    return found


# --- templates -------------------------------------------------------------------------------

_ENV = jinja2.sandbox.SandboxedEnvironment(
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@functools.lru_cache(maxsize=128)
def _compile(source: str) -> jinja2.Template:
    try:
        return _ENV.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateSyntaxError(
            "Mẫu văn bản có lỗi cú pháp",
            field_errors={"template": [f"Dòng {exc.lineno}: {exc.message}"]},
            details=[f"dòng {exc.lineno}"],
        ) from None


def render_template(template_source: str, context: Mapping[str, Any]) -> str:
    """Render an (agency-written) Jinja2 template in the sandbox; only plain values reach it."""
    template = _compile(nfc(template_source))
    try:
        return template.render(nfc_any(dict(context)))
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateUnsafeError(
            "Mẫu văn bản truy cập thành phần không được phép", log=f"template sandbox: {exc}"
        ) from None
    except jinja2.UndefinedError as exc:
        raise RenderError("Mẫu văn bản dùng dữ liệu không tồn tại", details=[str(exc)]) from None
    except jinja2.TemplateError as exc:
        raise RenderError("Không dựng được mẫu văn bản", details=[str(exc)]) from None


def render_template_pdf(
    template_source: str,
    context: dict[str, Any],
    *,
    assets: Assets | None = None,
) -> bytes:
    """Render a sandboxed Jinja2 HTML template with ``context`` and return the PDF."""
    return render_pdf(render_template(template_source, context), assets=assets)
