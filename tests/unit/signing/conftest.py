from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image, ImageDraw

from app.render import DocumentRenderInfo, RenderedDocumentResult, render_document_layout
from app.signing import Pkcs12SignerRef
from tests.pki import TestPki, make_pki


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> TestPki:
    """RSA key generation and PKCS#12 encryption take ~0.5 s: build the PKI once per run."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def trust_roots(pki) -> list[bytes]:
    return [pki.root.cert_der]


def signer_ref(identity, pki: TestPki) -> Pkcs12SignerRef:
    return Pkcs12SignerRef(path=identity.p12_path, passphrase=pki.passphrase)


def _png(draw, size: tuple[int, int]) -> bytes:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw(ImageDraw.Draw(image))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="session")
def blue_signature_png() -> bytes:
    return _png(
        lambda d: d.line([(10, 120), (80, 20), (150, 110), (220, 30), (290, 90)], fill=(20, 40, 200, 255), width=7),
        (300, 150),
    )


@pytest.fixture(scope="session")
def red_seal_png() -> bytes:
    def draw(d):
        d.ellipse((4, 4, 296, 296), outline=(220, 0, 0, 255), width=10)
        d.ellipse((40, 40, 260, 260), outline=(220, 0, 0, 255), width=5)
        d.regular_polygon((150, 150, 40), 5, fill=(220, 0, 0, 255))

    return _png(draw, (300, 300))


@pytest.fixture(scope="session")
def rendered_document() -> RenderedDocumentResult:
    return render_document_layout(
        DocumentRenderInfo(
            governing_body="UBND tỉnh Vĩnh Phúc",
            agency_name="Sở Thông tin và Truyền thông",
            number_notation="15/QĐ-STTTT",
            place="Vĩnh Yên",
            issue_date=dt.date(2026, 11, 5),
            type_name="Quyết định",
            summary="Về việc ban hành Quy chế quản lý văn bản điện tử",
            body=("Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ;",) * 3,
            signer_authority="KT. GIÁM ĐỐC",
            signer_position="Phó Giám đốc",
            signer_name="Nguyễn Văn An",
            recipients=("Như Điều 3;", "Lưu: VT, VP."),
        )
    )
