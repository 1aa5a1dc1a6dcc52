"""The outgoing chain with the signing services of a real deployment (issue #16, item 7):

RFC 3161 timestamps and PAdES B-LT from a live test PKI (Certomancer over loopback HTTP), the agency seal on a
PKCS#11 token (SoftHSM2) unlocked by the PIN the clerk types at the issue step, and revocation checked
when a signed PDF arrives (revoked → refused as valid; CA unreachable → "unchecked", never "valid").
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import pytest

from app.core.errors import ValidationError
from app.documents import services
from app.documents.attachments import UploadInfo
from app.documents.models import Document
from app.extensions import db
from app.signing import Pkcs12SignerRef, sign_pdf, verify_pdf
from app.signing.errors import SignerKeyError
from app.signing.refs import RevocationPolicy
from app.tenancy.models import Staff
from app.workflow import services as wf
from tests.integration.documents.conftest import incoming_data
from tests.integration.documents.test_outgoing import _draft, _files, _task
from tests.support.certomancer_pki import LivePki, start_live_pki

MODULE = next((m for m in ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")
               if pathlib.Path(m).exists()), None)


@pytest.fixture(scope="module")
def live(app, tmp_path_factory) -> LivePki:
    pki = start_live_pki(tmp_path_factory.mktemp("certomancer"))
    trust = pathlib.Path(app.config["QLVB_TRUST_ROOTS"])
    trust.mkdir(parents=True, exist_ok=True)
    (trust / "certomancer-root.der").write_bytes(pki.root_der)
    yield pki
    (trust / "certomancer-root.der").unlink()
    pki.stop()


@pytest.fixture
def tsa(app, live, monkeypatch):
    monkeypatch.setitem(app.config, "QLVB_TSA_URL", live.tsa_url)
    monkeypatch.setitem(app.config, "QLVB_PADES_LEVEL", "B-LT")
    return live


def _live_office(office, app, live: LivePki, *, seal: bool = True):
    """An agency whose leader holds the live PKI's personal certificate (and, unless not, its seal .p12)."""
    o = office(abbreviation="STTTT", keys=False)
    staff = db.session.query(Staff).filter(Staff.user_id == o.accounts["leader"].user_id).one()
    staff.full_name, staff.email = "Nguyễn Văn An", f"an.nguyen.{o.code}@example.vn"
    db.session.commit()
    folder = pathlib.Path(app.config["QLVB_SIGNING_DIR"]) / o.code
    (folder / "users").mkdir(parents=True, exist_ok=True)
    shutil.copy(live.p12["leader"], folder / "users" / f"{staff.email}.p12")
    if seal:
        shutil.copy(live.p12["agency"], folder / "agency.p12")
    return o


def _through_signature(o, pin: str):
    doc = _draft(o)
    wf.complete_task(_task(doc.instance_id, "review").id, o.actors["head"], {"decision": "approve"})
    wf.complete_task(_task(doc.instance_id, "sign").id, o.actors["leader"], {"decision": "approve"},
                     inputs={"pin": pin})
    db.session.commit()
    return doc


def test_issued_documents_carry_timestamps_and_long_term_validation_data(office, app, tsa, tmp_path) -> None:
    o = _live_office(office, app, tsa)
    doc = _through_signature(o, tsa.passphrase)
    wf.complete_task(_task(doc.instance_id, "issue").id, o.actors["clerk"], {}, inputs={"pin": tsa.passphrase})
    db.session.commit()
    (sealed,) = _files(o, doc.id, "sealed")
    # The archive's verdict, from the file alone (no network): both signatures timestamped, DSS inside.
    result = verify_pdf(sealed, [tsa.root_der], revocation=RevocationPolicy(mode="embedded"))
    assert result.status == "valid"
    assert [(s.timestamped, s.long_term, s.revocation_checked) for s in result.signatures] == [(True, True, True)] * 2
    stored = db.session.get(Document, doc.id)
    assert stored.signature_status == "valid"
    if shutil.which("pdfsig"):
        path = tmp_path / "sealed.pdf"
        path.write_bytes(sealed)
        out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=True).stdout
        assert out.count("Signature is Valid.") == 2 and out.count("ETSI.CAdES.detached") == 2


def test_an_unreachable_tsa_keeps_the_step_open(office, app, live, monkeypatch) -> None:
    o = _live_office(office, app, live)
    monkeypatch.setitem(app.config, "QLVB_TSA_URL", "http://127.0.0.1:9/tsa")  # discard port: nothing listens
    monkeypatch.setitem(app.config, "QLVB_TSA_TIMEOUT", "2")
    doc = _draft(o)
    wf.complete_task(_task(doc.instance_id, "review").id, o.actors["head"], {"decision": "approve"})
    db.session.commit()
    with pytest.raises(Exception) as caught:
        wf.complete_task(_task(doc.instance_id, "sign").id, o.actors["leader"], {"decision": "approve"},
                         inputs={"pin": live.passphrase})
    assert caught.value.message == "Không lấy được dấu thời gian từ máy chủ cấp dấu thời gian"
    db.session.rollback()
    stored = db.session.get(Document, doc.id)
    assert stored.number is None and not [a for a in stored.attachments if a.kind == "signed"]
    assert _task(doc.instance_id, "sign")  # still open


def test_a_revoked_signer_is_not_registered_as_valid(office, app, live) -> None:
    receiver = office(abbreviation="STC")
    signed = sign_pdf(_pdf(), Pkcs12SignerRef(path=live.p12["revoked"], passphrase=live.passphrase),
                      field_name="ChuKy", reason="Phát hành", location="Vĩnh Phúc")
    doc = services.register_incoming(receiver.agency_id, actor=receiver.actors["clerk"],
                                     data=incoming_data(channel="electronic"),
                                     files=[UploadInfo("qd-thu-hoi.pdf", signed)])
    db.session.commit()
    assert doc.attachments[0].verification_status == "revoked"
    assert doc.signature_label == "Chứng thư số đã bị thu hồi"
    assert services.needs_signature_reason(doc.signature_status)


def test_an_unreachable_ca_leaves_revocation_unchecked(office, app, tmp_path_factory, monkeypatch) -> None:
    pki = start_live_pki(tmp_path_factory.mktemp("down"))
    signed = sign_pdf(_pdf(), Pkcs12SignerRef(path=pki.p12["leader"], passphrase=pki.passphrase),
                      field_name="ChuKy", reason="Phát hành", location="Vĩnh Phúc")
    pki.stop()
    trusted = pathlib.Path(app.config["QLVB_TRUST_ROOTS"]) / "down-root.der"
    trusted.write_bytes(pki.root_der)
    monkeypatch.setitem(app.config, "QLVB_REVOCATION_TIMEOUT", "2")
    receiver = office(abbreviation="STC")
    try:
        doc = services.register_incoming(receiver.agency_id, actor=receiver.actors["clerk"],
                                         data=incoming_data(channel="electronic"),
                                         files=[UploadInfo("qd.pdf", signed)])
        db.session.commit()
    finally:
        trusted.unlink()
    assert doc.attachments[0].verification_status == "unchecked"  # never "valid" when the CA could not be asked
    assert doc.signature_label == "Chưa kiểm tra được tình trạng thu hồi của chứng thư số"
    assert services.needs_signature_reason(doc.signature_status)


@pytest.fixture
def seal_token(tmp_path, live, monkeypatch):
    """The live PKI's agency certificate and key on a SoftHSM2 token labelled "seal" (PIN 246810)."""
    if MODULE is None or shutil.which("softhsm2-util") is None or shutil.which("pkcs11-tool") is None:
        pytest.skip("SoftHSM2 / OpenSC not installed")

    from cryptography.hazmat.primitives import serialization

    from tests.support.softhsm import softhsm_conf

    softhsm_conf()
    env = {**os.environ}
    token = "seal"
    key = tmp_path / "seal.key.pem"
    key.write_bytes(live.keys["agency"].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
    (tmp_path / "seal.der").write_bytes(live.certs_der["agency"])
    (tmp_path / "interm.der").write_bytes(live.intermediate_der)

    def run(*args: str) -> None:
        subprocess.run(args, check=True, capture_output=True, env=env)

    run("softhsm2-util", "--import", str(key), "--token", token, "--label", "agency", "--id", "01", "--pin", "246810")
    for label, obj_id, name in (("agency", "01", "seal.der"), ("interm", "02", "interm.der")):
        run("pkcs11-tool", "--module", MODULE, "--token-label", token, "--login", "--pin", "246810",
            "--write-object", str(tmp_path / name), "--type", "cert", "--label", label, "--id", obj_id)
    key.unlink()
    return token


def test_the_agency_seal_on_a_pkcs11_token_with_the_pin_typed_at_issue(office, app, tsa, seal_token,
                                                                       monkeypatch) -> None:
    o = _live_office(office, app, tsa, seal=False)
    key = o.code.upper()
    for what, value in (("MODULE", MODULE), ("TOKEN", seal_token), ("KEY", "agency")):
        monkeypatch.setitem(app.config, f"QLVB_PKCS11_{what}_{key}", value)
    doc = _through_signature(o, tsa.passphrase)
    issue = _task(doc.instance_id, "issue")
    with pytest.raises(ValidationError):  # no PIN typed and none configured: asked, never guessed
        wf.complete_task(issue.id, o.actors["clerk"], {}, inputs={})
    db.session.rollback()
    with pytest.raises(SignerKeyError) as caught:
        wf.complete_task(issue.id, o.actors["clerk"], {}, inputs={"pin": "000000"})
    assert caught.value.message == "Mã PIN của thiết bị ký số không đúng"
    db.session.rollback()
    assert not _files(o, doc.id, "sealed")
    wf.complete_task(issue.id, o.actors["clerk"], {}, inputs={"pin": "246810"})
    db.session.commit()
    (sealed,) = _files(o, doc.id, "sealed")
    result = verify_pdf(sealed, [tsa.root_der], revocation=RevocationPolicy(mode="embedded"))
    assert result.status == "valid"
    assert [s.signer_name for s in result.signatures] == ["Nguyễn Văn An", "Sở Thử nghiệm"]
    assert all(s.timestamped and s.long_term for s in result.signatures)


def _pdf() -> bytes:
    import datetime as dt

    from app.render import DocumentRenderInfo, render_document

    return render_document(DocumentRenderInfo(
        governing_body="UBND TỈNH VĨNH PHÚC", agency_name="SỞ TÀI CHÍNH", number_notation="7/QĐ-STC",
        place="Vĩnh Yên", issue_date=dt.date(2026, 11, 5), type_name="Quyết định", summary="Về việc thử nghiệm",
        body=("Căn cứ Nghị định số 30/2020/NĐ-CP;",), signer_authority="KT. GIÁM ĐỐC", signer_position="PHÓ GIÁM ĐỐC",
        signer_name="Trần Thị Thu Hồi", recipients=("Lưu: VT.",)))


def test_the_sign_step_signs_through_the_remote_signing_service(office, app, live, monkeypatch) -> None:
    from app.tenancy.services import set_signing_method
    from tests.support.csc_service import Credential, CscService

    o = _live_office(office, app, live)
    staff = db.session.query(Staff).filter(Staff.user_id == o.accounts["leader"].user_id).one()
    (pathlib.Path(app.config["QLVB_SIGNING_DIR"]) / o.code / "users" / f"{staff.email}.p12").unlink()  # none here
    set_signing_method(staff.id, agency_id=o.agency_id, method="remote", remote_credential_id=None)
    db.session.commit()
    csc = CscService(token="qlvb-" + "t" * 24, credentials={"c-1": Credential(
        user_id=staff.email, pin="802468", key=live.keys["leader"],
        chain_der=[live.certs_der["leader"], live.intermediate_der])}).start()
    monkeypatch.setitem(app.config, "QLVB_CSC_URL", csc.url)
    monkeypatch.setitem(app.config, "QLVB_CSC_TOKEN", csc.token)
    monkeypatch.setitem(app.config, "QLVB_CSC_TIMEOUT", "3")
    try:
        doc = _draft(o)
        wf.complete_task(_task(doc.instance_id, "review").id, o.actors["head"], {"decision": "approve"})
        db.session.commit()
        sign = _task(doc.instance_id, "sign")
        with pytest.raises(SignerKeyError) as caught:
            wf.complete_task(sign.id, o.actors["leader"], {"decision": "approve"}, inputs={"pin": "111111"})
        assert "từ chối mã PIN" in caught.value.message
        db.session.rollback()
        stored = db.session.get(Document, doc.id)
        assert stored.number is None and csc.signed == 0  # nothing signed, nothing stored, the number given back
        wf.complete_task(sign.id, o.actors["leader"], {"decision": "approve"}, inputs={"pin": "802468"})
        db.session.commit()
        (signed,) = _files(o, doc.id, "signed")
        result = verify_pdf(signed, [live.root_der])
        assert result.status == "valid" and result.signatures[0].signer_name == "Nguyễn Văn An"
        assert csc.signed == 1
    finally:
        csc.stop()


def test_remote_service_down_keeps_the_sign_step_open(office, app, live, monkeypatch) -> None:
    from app.signing.errors import SignerDeviceError
    from app.tenancy.services import set_signing_method

    o = _live_office(office, app, live)
    staff = db.session.query(Staff).filter(Staff.user_id == o.accounts["leader"].user_id).one()
    set_signing_method(staff.id, agency_id=o.agency_id, method="remote", remote_credential_id="c-1")
    db.session.commit()
    monkeypatch.setitem(app.config, "QLVB_CSC_URL", "http://127.0.0.1:9")
    monkeypatch.setitem(app.config, "QLVB_CSC_TIMEOUT", "2")
    doc = _draft(o)
    wf.complete_task(_task(doc.instance_id, "review").id, o.actors["head"], {"decision": "approve"})
    db.session.commit()
    with pytest.raises(SignerDeviceError) as caught:
        wf.complete_task(_task(doc.instance_id, "sign").id, o.actors["leader"], {"decision": "approve"},
                         inputs={"pin": "802468"})
    assert caught.value.message.startswith("Không kết nối được dịch vụ ký số từ xa")
    db.session.rollback()
    assert db.session.get(Document, doc.id).number is None
    assert _task(doc.instance_id, "sign")
