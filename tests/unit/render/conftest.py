from __future__ import annotations

import datetime as dt
import io
import subprocess
import unicodedata

import pytest
from pypdf import PdfReader

from app.render import DocumentRenderInfo

VIETNAMESE_SAMPLE = "Ủy ban nhân dân tỉnh Vĩnh Phúc — Sở Thông tin và Truyền thông ữựỹỵỷẫậẩầấ"


def png(color: tuple[int, int, int, int], size: tuple[int, int] = (40, 20)) -> bytes:
    """A PNG with a transparent background and a filled ellipse of ``color``."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((1, 1, size[0] - 2, size[1] - 2), fill=color)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def pdf_text(pdf: bytes) -> str:
    """Text of every page, NFC (extractors may hand back decomposed marks)."""
    reader = PdfReader(io.BytesIO(pdf))
    return unicodedata.normalize("NFC", "\n".join(page.extract_text() for page in reader.pages))


def pdf_fonts(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def decision() -> DocumentRenderInfo:
    return DocumentRenderInfo(
        governing_body="UBND tỉnh Vĩnh Phúc",
        agency_name="Sở Thông tin và Truyền thông",
        number_notation="15/QĐ-STTTT",
        place="Vĩnh Yên",
        issue_date=dt.date(2026, 11, 5),
        type_name="Quyết định",
        summary="Về việc ban hành Quy chế quản lý văn bản điện tử",
        body=(
            "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công tác văn thư;",
            f"Theo đề nghị của Chánh Văn phòng. {VIETNAMESE_SAMPLE}.",
        ),
        signer_authority="KT. GIÁM ĐỐC",
        signer_position="Phó Giám đốc",
        signer_name="Nguyễn Văn An",
        recipients=("Như Điều 3;", "UBND tỉnh (b/c);", "Lưu: VT, VP."),
    )
