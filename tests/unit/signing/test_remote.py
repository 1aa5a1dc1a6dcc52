"""Remote signing through a CSC API v1 service (a loopback one with a key of the live test PKI)."""

from __future__ import annotations

import pytest

from app.signing import CscSignerRef, RevocationPolicy, SignerDeviceError, SignerKeyError, sign_pdf, verify_pdf
from app.signing.keys import signer_holder
from tests.support.certomancer_pki import start_live_pki
from tests.support.csc_service import Credential, CscService


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    pki = start_live_pki(tmp_path_factory.mktemp("certomancer"))
    yield pki
    pki.stop()


@pytest.fixture
def csc(live):
    service = CscService(token="tok-" + "x" * 20, credentials={"cred-an": Credential(
        user_id="an.nguyen@example.vn", pin="135790", key=live.keys["leader"],
        chain_der=[live.certs_der["leader"], live.intermediate_der])}).start()
    yield service
    service.stop()


def _ref(csc, **kwargs) -> CscSignerRef:
    values = {"user_id": "an.nguyen@example.vn", "pin": "135790", "timeout_seconds": 5, **kwargs}
    return CscSignerRef(service_url=csc.url, access_token=csc.token, **values)


def test_signs_remotely_with_the_holders_pin(csc, live, rendered_document) -> None:
    ref = _ref(csc)
    assert "135790" not in repr(ref) and csc.token not in repr(ref)
    assert signer_holder(ref).email == "an.nguyen@example.vn"
    signed = sign_pdf(rendered_document.pdf, ref, field_name="ChuKyLanhDao", page=rendered_document.signature_box.page,
                      box=rendered_document.signature_box.box, reason="Phê duyệt", location="Vĩnh Phúc")
    result = verify_pdf(signed, [live.root_der], revocation=RevocationPolicy(mode="online", timeout_seconds=5))
    assert result.status == "valid"
    assert result.signatures[0].signer_name == "Nguyễn Văn An"
    assert csc.signed == 1


def test_wrong_pin_signs_nothing(csc, rendered_document) -> None:
    with pytest.raises(SignerKeyError) as caught:
        sign_pdf(rendered_document.pdf, _ref(csc, pin="000000"), field_name="X", reason="r", location="l")
    assert caught.value.message == "Dịch vụ ký số từ xa từ chối mã PIN/OTP: mã không đúng hoặc đã bị khóa"
    assert csc.refused_pins == 1 and csc.signed == 0


def test_unknown_holder_and_service_down(csc, rendered_document) -> None:
    with pytest.raises(SignerKeyError, match="không có chứng thư số"):
        sign_pdf(rendered_document.pdf, _ref(csc, user_id="nobody@example.vn"), field_name="X", reason="r",
                 location="l")
    url = csc.url
    csc.stop()
    with pytest.raises(SignerDeviceError) as caught:
        sign_pdf(rendered_document.pdf, CscSignerRef(service_url=url, credential_id="cred-an", pin="135790",
                                                     timeout_seconds=2), field_name="X", reason="r", location="l")
    assert caught.value.message.startswith("Không kết nối được dịch vụ ký số từ xa")
