from __future__ import annotations

import io
import shutil

import pytest
from pypdf import PdfReader, PdfWriter

from app.core.errors import DomainError
from app.render import render_image_stamp, render_pdf, render_text_stamp, seal_box_over
from app.signing import (
    STATUS_LABELS,
    PdfUnreadableError,
    Pkcs12SignerRef,
    SignatureFieldConflictError,
    SignerKeyError,
    sign_pdf,
    verify_pdf,
)
from tests.unit.signing.conftest import signer_ref

SEAL_MM = 36


def _sign_leader(rendered, pki, png: bytes) -> bytes:
    box = rendered.signature_box
    return sign_pdf(
        rendered.pdf,
        signer_ref(pki.leader, pki),
        field_name="ChuKyLanhDao",
        page=box.page,
        box=box.box,
        appearance_pdf=render_image_stamp(png, width_mm=60, height_mm=30),
        reason="Phê duyệt ban hành",
        location="Vĩnh Phúc",
    )


def _sign_agency(pdf: bytes, rendered, pki, seal_png: bytes) -> bytes:
    box = rendered.signature_box
    return sign_pdf(
        pdf,
        signer_ref(pki.agency, pki),
        field_name="ChuKyCoQuan",
        page=box.page,
        box=seal_box_over(box.box, seal_width_mm=SEAL_MM, seal_height_mm=SEAL_MM),
        appearance_pdf=render_image_stamp(seal_png, width_mm=SEAL_MM, height_mm=SEAL_MM),
        reason="Phát hành văn bản",
        location="Vĩnh Phúc",
    )


@pytest.fixture(scope="module")
def leader_signed(rendered_document, pki, blue_signature_png) -> bytes:
    return _sign_leader(rendered_document, pki, blue_signature_png)


@pytest.fixture(scope="module")
def both_signed(leader_signed, rendered_document, pki, red_seal_png) -> bytes:
    return _sign_agency(leader_signed, rendered_document, pki, red_seal_png)


def test_leader_then_agency_both_valid_and_trusted(both_signed, leader_signed, rendered_document, trust_roots):
    assert both_signed.startswith(leader_signed) and leader_signed.startswith(rendered_document.pdf)
    result = verify_pdf(both_signed, trust_roots)
    assert result.status == "valid" and result.label == STATUS_LABELS["valid"]
    leader, agency = result.signatures
    assert (leader.field_name, agency.field_name) == ("ChuKyLanhDao", "ChuKyCoQuan")
    assert leader.signer_name == "Nguyễn Văn An"
    assert agency.signer_name == "Sở Thông tin và Truyền thông tỉnh Vĩnh Phúc"
    for sig in result.signatures:
        assert sig.intact and sig.valid and sig.trusted
        assert not sig.expired and not sig.modified_after_signing
        assert sig.signing_time is not None and sig.signing_time.tzinfo is not None
    # The second signature is an incremental update: the first covers its own revision.
    assert leader.coverage == "entire_revision" and agency.coverage == "entire_file"


def test_signatures_are_pades_and_visible_where_asked(both_signed, rendered_document):
    reader = PdfReader(io.BytesIO(both_signed))
    widgets = {
        a.get_object()["/T"]: [float(v) for v in a.get_object()["/Rect"]]
        for a in reader.pages[rendered_document.signature_box.page]["/Annots"]
    }
    leader_rect = widgets["ChuKyLanhDao"]
    seal_rect = widgets["ChuKyCoQuan"]
    assert leader_rect == pytest.approx(list(rendered_document.signature_box.box), abs=0.01)
    # The seal's right edge lies on the first third of the signature (Phụ lục I II.8.a).
    third = leader_rect[0] + (leader_rect[2] - leader_rect[0]) / 3
    assert seal_rect[2] == pytest.approx(third, abs=0.01) and seal_rect[0] < leader_rect[0]
    for field in reader.get_fields().values():
        assert field["/V"]["/SubFilter"] == "/ETSI.CAdES.detached"


def test_one_byte_changed_in_signed_range_is_modified(both_signed, trust_roots):
    data = bytearray(both_signed)
    # Byte 11 sits in the binary comment after "%PDF-1.7": inside every signed range, and the file
    # still parses, so only the signature can tell.
    assert data[9:10] == b"%"
    data[11] ^= 0x01
    result = verify_pdf(bytes(data), trust_roots)
    assert result.status == "modified"
    assert result.label == "Văn bản đã bị thay đổi sau khi ký"
    assert not result.signatures[0].intact


def test_drawing_on_the_page_after_signing_is_modified(leader_signed, trust_roots):
    overlay = PdfReader(io.BytesIO(render_pdf("<p style='font-size:40pt'>ĐÃ SỬA</p>")))
    writer = PdfWriter(io.BytesIO(leader_signed), incremental=True)
    writer.pages[0].merge_page(overlay.pages[0])
    out = io.BytesIO()
    writer.write(out)
    tampered = out.getvalue()
    assert tampered.startswith(leader_signed)  # a genuine incremental update

    result = verify_pdf(tampered, trust_roots)
    (sig,) = result.signatures
    assert sig.intact and sig.valid  # the signed bytes are untouched…
    assert sig.modified_after_signing  # …but the page now shows something else
    assert result.status == "modified"


def test_signer_outside_trust_roots_is_untrusted(leader_signed, pki):
    result = verify_pdf(leader_signed, [pki.other_root.cert_der])
    assert result.status == "untrusted"
    assert result.label == "Chứng thư số không do tổ chức chứng thực tin cậy cấp"
    assert result.signatures[0].intact and not result.signatures[0].trusted


def test_signer_from_another_ca_is_untrusted(rendered_document, pki, trust_roots):
    signed = sign_pdf(
        rendered_document.pdf,
        signer_ref(pki.stranger, pki),
        field_name="ChuKy",
        reason="Thử",
        location="Hà Nội",
    )
    assert verify_pdf(signed, trust_roots).status == "untrusted"


def test_expired_certificate_is_expired(rendered_document, pki, trust_roots):
    signed = sign_pdf(
        rendered_document.pdf, signer_ref(pki.expired, pki), field_name="ChuKy", reason="Thử", location="VP"
    )
    result = verify_pdf(signed, trust_roots)
    assert result.status == "expired"
    assert result.signatures[0].expired and result.signatures[0].valid
    assert result.label == "Chứng thư số đã hết hạn"


def test_attachment_text_block_signature(rendered_document, pki, trust_roots):
    stamp = render_text_stamp(
        [
            "Người ký: Sở Thông tin và Truyền thông",
            "Cơ quan: Ủy ban nhân dân tỉnh Vĩnh Phúc",
            "Thời gian ký: 2026-11-05T09:30:00+07:00",
        ],
        width_mm=80,
        height_mm=18,
    )
    width, height = 80 * 72 / 25.4, 18 * 72 / 25.4
    a4_w, a4_h = 595.28, 841.89
    signed = sign_pdf(
        rendered_document.pdf,
        signer_ref(pki.agency, pki),
        field_name="ChuKyPhuLuc",
        page=0,
        box=(
            a4_w - 15 * 72 / 25.4 - width,
            a4_h - 10 * 72 / 25.4 - height,
            a4_w - 15 * 72 / 25.4,
            a4_h - 10 * 72 / 25.4,
        ),
        appearance_pdf=stamp,
        reason="Phát hành phụ lục",
        location="Vĩnh Phúc",
    )
    assert verify_pdf(signed, trust_roots).status == "valid"


def test_unsigned_pdf(rendered_document, trust_roots):
    result = verify_pdf(rendered_document.pdf, trust_roots)
    assert (result.status, result.signatures) == ("unsigned", ())
    assert result.label == "Văn bản chưa được ký số"


@pytest.mark.parametrize(
    "data", [b"", b"not a pdf at all", b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog", b"%PDF-1.4\n%%EOF"]
)
def test_malformed_pdf_is_a_domain_error(data, trust_roots, pki):
    with pytest.raises(PdfUnreadableError) as caught:
        verify_pdf(data, trust_roots)
    assert "Tệp PDF" in caught.value.message
    with pytest.raises(DomainError):
        sign_pdf(data, signer_ref(pki.leader, pki), field_name="X", reason="r", location="l")


def test_truncated_signed_pdf_is_not_a_traceback(both_signed, trust_roots):
    try:
        result = verify_pdf(both_signed[: len(both_signed) // 2], trust_roots)
    except DomainError as exc:
        assert "Tệp PDF" in exc.message
    else:
        assert result.status != "valid"


def test_encrypted_pdf_is_refused(rendered_document, trust_roots, pki):
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(rendered_document.pdf)))
    writer.encrypt(user_password="", owner_password="chu-so-huu", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(PdfUnreadableError) as caught:
        verify_pdf(out.getvalue(), trust_roots)
    assert caught.value.message == "Tệp PDF đã được mã hóa, không kiểm tra được chữ ký số"
    with pytest.raises(PdfUnreadableError):
        sign_pdf(out.getvalue(), signer_ref(pki.leader, pki), field_name="X", reason="r", location="l")


def test_wrong_passphrase_and_missing_file(rendered_document, pki, tmp_path):
    with pytest.raises(SignerKeyError) as caught:
        sign_pdf(
            rendered_document.pdf,
            Pkcs12SignerRef(pki.leader.p12_path, "sai-mat-khau"),
            field_name="X",
            reason="r",
            location="l",
        )
    assert caught.value.message == "Không mở được tệp khóa ký số: sai mật khẩu hoặc tệp bị hỏng"
    with pytest.raises(SignerKeyError):
        sign_pdf(
            rendered_document.pdf,
            Pkcs12SignerRef(tmp_path / "khong-co.p12", "x"),
            field_name="X",
            reason="r",
            location="l",
        )


def test_signing_a_signed_field_again_is_a_conflict(leader_signed, pki):
    with pytest.raises(SignatureFieldConflictError):
        sign_pdf(leader_signed, signer_ref(pki.leader, pki), field_name="ChuKyLanhDao", reason="r", location="l")


def test_replaced_key_file_is_reloaded(rendered_document, pki, trust_roots, tmp_path):
    path = tmp_path / "token.p12"
    shutil.copy(pki.leader.p12_path, path)
    ref = Pkcs12SignerRef(path, pki.passphrase)
    first = sign_pdf(rendered_document.pdf, ref, field_name="A", reason="r", location="l")
    shutil.copy(pki.agency.p12_path, path)  # renewed certificate written in place
    second = sign_pdf(rendered_document.pdf, ref, field_name="A", reason="r", location="l")
    assert verify_pdf(first, trust_roots).signatures[0].signer_name == "Nguyễn Văn An"
    assert verify_pdf(second, trust_roots).signatures[0].signer_name.startswith("Sở Thông tin")


def test_visible_appearance_needs_a_box(rendered_document, pki):
    with pytest.raises(DomainError):
        sign_pdf(
            rendered_document.pdf,
            signer_ref(pki.leader, pki),
            field_name="X",
            appearance_pdf=b"%PDF",
            reason="r",
            location="l",
        )
