"""Outgoing PDFs and their two signatures, and the verification of signed PDFs that arrive.

Keys and images (README, "Certificates and trust roots"):

    QLVB_SIGNING_DIR/<agency_code>/agency.p12         agency (organisation) certificate, held by the clerk
    QLVB_SIGNING_DIR/<agency_code>/seal.png           red seal, transparent PNG, real size (36 mm)
    QLVB_SIGNING_DIR/<agency_code>/users/<email>.p12  a leader's personal certificate
    QLVB_SIGNING_DIR/<agency_code>/users/<email>.png  that leader's blue handwritten signature
    QLVB_SIGNING_PASSPHRASE_<CODE> / _<EMAIL>         their passphrases (environment only)
    QLVB_PKCS11_{MODULE,TOKEN,KEY,PIN}_<CODE>         the agency key on a token instead of a .p12
    QLVB_TRUST_ROOTS                                  a folder of root CA certificates (PEM or DER)

Signing (Phụ lục I, II.7–8): the leader signs first, his blue signature between title and name;
the clerk then applies the agency signature, the red seal covering the left third of the leader's
signature. Both are PAdES, visible, and incremental (the first stays valid), each kept as a new
``signed`` attachment; the document's signature verdict is updated from a fresh verification.
"""

from __future__ import annotations

import functools
import hashlib
import io
import pathlib
from collections.abc import Sequence

from pypdf import PdfReader
from pypdf.errors import PyPdfError
from sqlalchemy import select

from app.core import clock
from app.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from app.core.text import nfc
from app.extensions import db
from app.render import (
    DocumentRenderInfo,
    render_document_layout,
    render_image_stamp,
    render_seal_stamp,
    render_text_stamp,
    seal_box_over,
)
from app.signing import (
    STATUS_LABELS,
    CscSignerRef,
    LongTermRef,
    Pkcs11SignerRef,
    Pkcs12SignerRef,
    RevocationPolicy,
    SignerRef,
    TsaRef,
    signer_holder,
    verify_pdf,
)
from app.signing import sign_pdf as _sign_pdf
from app.tenancy.models import Agency, Department, Position
from app.workflow.info import ActorRef

from . import layout, settings
from .attachments import CheckedFile, new_attachment
from .errors import DocumentStateError, SignerMismatchError, SigningNotConfiguredError
from .info import AttachmentInfo, attachment_info
from .models import Attachment, Document
from .storage import Storage, default_storage

LEADER_FIELD = "ChuKyLanhDao"
AGENCY_FIELD = "ChuKyCoQuan"
SIGNATURE_MM = (60.0, 30.0)
SEAL_MM = 36.0
_SEVERITY = ("invalid", "revoked", "modified", "expired", "untrusted", "unchecked", "valid", "unsigned")
URGENCY_MARKS = {"khan": "KHẨN", "thuong_khan": "THƯỢNG KHẨN", "hoa_toc": "HỎA TỐC"}


# -- configuration -------------------------------------------------------------------------
def agency_signer_ref(agency_code: str, *, pin: str | None = None) -> SignerRef:
    """The agency certificate: a PKCS#11 token if configured, else ``<dir>/<code>/agency.p12``.

    ``pin`` is what the clerk typed (the token's PIN or the key file's passphrase); without it the
    configured one is used, for agencies that keep the seal in an unattended HSM."""
    module = settings.pkcs11_setting(agency_code, "module")
    if module:
        token = settings.pkcs11_setting(agency_code, "token")
        key = settings.pkcs11_setting(agency_code, "key")
        if not token or not key:
            raise SigningNotConfiguredError(
                f"Cấu hình thiết bị ký số của cơ quan {agency_code} thiếu tên token hoặc tên khóa"
            )
        token_pin = pin or settings.pkcs11_setting(agency_code, "pin")
        if not token_pin:  # the seal's PIN is typed by the clerk at each issue, never guessed
            raise ValidationError("Nhập mã PIN của thiết bị ký số (token) của cơ quan để phát hành",
                                  field_errors={"pin": ["Bắt buộc"]})
        return Pkcs11SignerRef(module_path=module, token_label=token, key_label=key, pin=token_pin)
    path = settings.signing_dir() / agency_code / "agency.p12"
    if not path.is_file():
        raise SigningNotConfiguredError(
            "Cơ quan chưa được cấu hình chứng thư số cơ quan (tệp agency.p12); liên hệ quản trị hệ thống",
            log=f"missing {path}",
        )
    return Pkcs12SignerRef(path=path, passphrase=pin or settings.passphrase(agency_code))


def personal_signer_ref(agency_code: str, email: str, *, passphrase: str | None = None) -> SignerRef:
    """A leader's personal certificate ``<dir>/<code>/users/<email>.p12`` (passphrase typed or configured)."""
    path = settings.signing_dir() / agency_code / "users" / f"{_safe_name(email)}.p12"
    if not path.is_file():
        raise SigningNotConfiguredError(
            "Chưa có chứng thư số cá nhân của người ký trên hệ thống; liên hệ quản trị hệ thống",
            log=f"missing {path}",
        )
    return Pkcs12SignerRef(path=path, passphrase=passphrase or settings.passphrase(email, agency_code))


def remote_signer_ref(agency_code: str, email: str, *, credential_id: str | None, pin: str) -> SignerRef:
    """A personal key at the remote signing service (``QLVB_CSC_URL``), unlocked by the PIN/OTP typed now."""
    url, token = settings.csc_service(agency_code)
    if not url:
        raise SigningNotConfiguredError(
            "Cán bộ được cấu hình ký số từ xa nhưng hệ thống chưa có địa chỉ dịch vụ ký số từ xa; "
            "liên hệ quản trị hệ thống", log=f"QLVB_CSC_URL unset for {agency_code}")
    return CscSignerRef(service_url=url, user_id=email, credential_id=credential_id, pin=pin, access_token=token,
                        timeout_seconds=int(settings.setting("QLVB_CSC_TIMEOUT") or 30))


def _safe_name(email: str) -> str:
    name = pathlib.PurePosixPath(email.strip().lower()).name
    if not name or name.startswith("."):
        raise PermissionDeniedError("Tài khoản người ký không hợp lệ")
    return name


def _image(agency_code: str, *parts: str) -> bytes | None:
    path = settings.signing_dir() / agency_code / pathlib.Path(*parts)
    return path.read_bytes() if path.is_file() else None


def trust_roots() -> list[bytes]:
    """Root certificates from ``QLVB_TRUST_ROOTS`` (every .pem/.crt/.cer/.der file of the folder)."""
    folder = settings.trust_roots_dir()
    if not folder.is_dir():
        return []
    return list(_read_roots(str(folder), _folder_stamp(folder)))


def _folder_stamp(folder: pathlib.Path) -> tuple[tuple[str, float], ...]:
    return tuple(sorted((p.name, p.stat().st_mtime) for p in folder.iterdir() if p.is_file()))


@functools.lru_cache(maxsize=8)
def _read_roots(folder: str, _stamp: tuple[tuple[str, float], ...]) -> tuple[bytes, ...]:
    return tuple(
        p.read_bytes() for p in sorted(pathlib.Path(folder).iterdir())
        if p.is_file() and p.suffix.lower() in (".pem", ".crt", ".cer", ".der")
    )


def sign_pdf(pdf: bytes, ref: SignerRef, **kwargs: object) -> bytes:
    """Sign at the configured PAdES level: timestamped by ``QLVB_TSA_URL``, with validation data for B-LT."""
    level = settings.pades_level()
    url = settings.tsa_url()
    if level != "B-B" and not url:
        raise SigningNotConfiguredError(
            f"Mức chữ ký {level} cần máy chủ cấp dấu thời gian (QLVB_TSA_URL) nhưng chưa được cấu hình; "
            "liên hệ quản trị hệ thống")
    tsa = None
    if url and level != "B-B":
        username, password, timeout = settings.tsa_credentials()
        tsa = TsaRef(url=url, username=username, password=password, timeout_seconds=timeout)
    long_term = None
    if level in ("B-LT", "B-LTA"):
        long_term = LongTermRef(trust_roots=tuple(trust_roots()), archive_timestamp=level == "B-LTA",
                                fetch_timeout_seconds=settings.revocation_mode()[1])
    return _sign_pdf(pdf, ref, timestamper=tsa, long_term=long_term, **kwargs)  # type: ignore[arg-type]


def revocation_policy() -> RevocationPolicy:
    mode, timeout = settings.revocation_mode()
    return RevocationPolicy(mode=mode, timeout_seconds=timeout)


# -- verification --------------------------------------------------------------------------
def worst_status(verdicts: Sequence[tuple[str, str]]) -> tuple[str, str]:
    status = min((s for s, _ in verdicts), key=lambda s: _SEVERITY.index(s) if s in _SEVERITY else 0)
    return status, STATUS_LABELS.get(status, status)


def verify_attachment(row: Attachment, data: bytes, roots: Sequence[bytes] | None = None, *,
                      agency_code: str | None = None) -> None:
    """Check a PDF's signatures against the trust roots (of ``agency_code``, the verifying agency) and
    record the verdict on the row."""
    result = verify_pdf(data, list(roots) if roots is not None else trust_roots(), revocation=revocation_policy())
    row.verification_status = result.status
    row.verification_label = result.label
    row.verification_detail = [
        {
            "field": s.field_name, "signer": s.signer_name, "organization": s.signer_organization,
            "signing_time": s.signing_time.isoformat() if s.signing_time else None,
            "status": s.status, "label": s.label, "trusted": s.trusted, "intact": s.intact,
            "kind": s.kind, "timestamped": s.timestamped, "long_term": s.long_term, "revoked": s.revoked,
            "revocation_checked": s.revocation_checked,
        }
        for s in result.signatures
    ]
    row.verified_at = clock.now()


def reverify_attachment(attachment_id: int, *, storage: Storage | None = None) -> AttachmentInfo:
    """Verify a stored PDF again (e.g. after the trust roots changed) and update the document's verdict."""
    row = db.session.get(Attachment, attachment_id)
    if row is None:
        raise NotFoundError("Không tìm thấy tệp đính kèm")
    verify_attachment(row, (storage or default_storage()).get(row.storage_key))
    _update_document_verdict(row.document)
    db.session.flush()
    return attachment_info(row)


def _update_document_verdict(doc: Document) -> None:
    checked = [a for a in doc.attachments if a.verification_status not in (None, "unsigned")]
    if checked:
        doc.signature_status, doc.signature_label = worst_status(
            [(a.verification_status or "", a.verification_label or "") for a in checked]
        )
        doc.signature_checked_at = clock.now()


# -- rendering -----------------------------------------------------------------------------
def render_info(doc: Document) -> DocumentRenderInfo:
    agency = db.session.get(Agency, doc.agency_id)
    assert agency is not None
    unit = db.session.get(Department, doc.drafting_department_id) if doc.drafting_department_id else None
    typed = doc.doc_type is not None and doc.doc_type.abbreviation is not None
    recipients = [line.strip().lstrip("-").strip() for line in (doc.recipients or "").splitlines() if line.strip()]
    keep = "Lưu: VT" + (f", {unit.abbreviation}" if unit and unit.abbreviation else "") + "."
    if not any(r.startswith("Lưu") for r in recipients):
        recipients.append(keep)
    paragraphs = tuple(p.strip() for p in (doc.body or "").split("\n") if p.strip())
    head_title = db.session.scalar(select(Position.name).where(Position.agency_id == agency.id,
                                                               Position.role == "leader")
                                   .order_by(Position.sort_order, Position.id).limit(1))
    lines = layout.signer_lines(position=doc.signer_position, head_title=head_title, agency_kind=agency.kind)
    addressees, recipients_left = layout.split_recipients(recipients, is_cong_van=not typed)
    return DocumentRenderInfo(
        governing_body=agency.governing_body or "",  # may keep UBND, HĐND (Phụ lục I, II.2)
        agency_name=layout.full_name(agency.name),
        number_notation=doc.number_notation or f"     /{doc.notation or agency.abbreviation}",
        place=agency.place or "Vĩnh Phúc",
        issue_date=doc.issue_date or clock.today(),
        type_name=doc.doc_type.name if typed and doc.doc_type else None,
        summary=doc.summary,
        body=paragraphs,
        signer_authority="\n".join(lines.authority),
        signer_position=lines.position,
        signer_name=doc.signer_name or "",
        recipients=recipients_left,
        addressees=addressees,
        urgency=URGENCY_MARKS.get(doc.urgency),
    )


def _document(agency_id: int, document_id: int) -> Document:
    doc = db.session.get(Document, document_id)
    if doc is None or doc.agency_id != agency_id:
        raise NotFoundError("Không tìm thấy văn bản")
    return doc


def _store_pdf(doc: Document, pdf: bytes, *, kind: str, filename: str, by_user_id: int | None, storage: Storage,
               page_count: int | None = None, box: list[float] | None = None) -> Attachment:
    checked = CheckedFile(filename=filename, content_type="application/pdf", size=len(pdf),
                          sha256=hashlib.sha256(pdf).hexdigest(), page_count=page_count, pdf_version=None, text=None)
    row = new_attachment(checked, pdf, storage=storage, kind=kind, uploaded_by_id=by_user_id)
    row.signature_box = box
    doc.attachments.append(row)
    db.session.flush()
    return row


def render_outgoing_pdf(agency_id: int, document_id: int, *, actor: ActorRef | None = None,
                        storage: Storage | None = None) -> AttachmentInfo:
    """Render a preview of the draft in the Decree 30 layout (no number yet, marked as a draft)."""
    doc = _document(agency_id, document_id)
    if doc.direction != "outgoing":
        raise DocumentStateError("Chỉ văn bản đi mới được dựng bản PDF")
    if doc.number is not None or _latest(doc, "final") is not None:
        raise DocumentStateError("Văn bản đã được cấp số; bản PDF chính thức đã được dựng và không dựng lại")
    return attachment_info(_render(doc, kind="preview", actor=actor, storage=storage))


def render_final_pdf(agency_id: int, document_id: int, *, actor: ActorRef | None = None,
                     storage: Storage | None = None) -> AttachmentInfo:
    """Render the official PDF with its number and date, once: that file is what the signer signs."""
    doc = _document(agency_id, document_id)
    if doc.number is None or doc.issue_date is None:
        raise DocumentStateError("Văn bản chưa được cấp số và ngày ban hành; chưa dựng bản chính thức được")
    if _latest(doc, "final") is not None:
        raise DocumentStateError("Bản PDF chính thức của văn bản đã được dựng")
    return attachment_info(_render(doc, kind="final", actor=actor, storage=storage))


def _render(doc: Document, *, kind: str, actor: ActorRef | None, storage: Storage | None) -> Attachment:
    result = render_document_layout(render_info(doc))
    box = result.signature_box
    return _store_pdf(
        doc, result.pdf, kind=kind, filename=_pdf_name(doc, "" if kind == "final" else "-du-thao"),
        by_user_id=actor.user_id if actor else None, storage=storage or default_storage(),
        page_count=result.page_count, box=[box.page, box.x1, box.y1, box.x2, box.y2] if box else None,
    )


def preview_pdf(agency_id: int, document_id: int, actor: ActorRef) -> tuple[str, bytes]:
    """The draft as it would be issued, rendered now and not stored (a reviewer's or signer's look)."""
    from .queries import get_document

    get_document(agency_id, document_id, actor)  # the same need-to-know as the document page
    doc = _document(agency_id, document_id)
    if doc.direction != "outgoing":
        raise DocumentStateError("Chỉ văn bản đi mới có bản xem trước")
    final = _latest(doc, "sealed") or _latest(doc, "signed") or _latest(doc, "final")
    if final is not None:  # once numbered, the look is the real file
        return final.filename, default_storage().get(final.storage_key)
    return _pdf_name(doc, "-xem-truoc"), render_document_layout(render_info(doc)).pdf


def _pdf_name(doc: Document, suffix: str) -> str:
    base = (doc.number_notation or f"du-thao-{doc.id}").replace("/", "-")
    return f"{base}{suffix}.pdf"


def _latest(doc: Document, kind: str) -> Attachment | None:
    rows = [a for a in doc.attachments if a.kind == kind]
    return rows[-1] if rows else None


def _box(rendered: Attachment) -> tuple[int, tuple[float, float, float, float]]:
    if not rendered.signature_box:
        raise DocumentStateError("Bản PDF của văn bản không có vị trí chữ ký; hãy dựng lại bản PDF")
    page, x1, y1, x2, y2 = rendered.signature_box
    return int(page), (x1, y1, x2, y2)


def sign_as_leader(agency_id: int, document_id: int, signer_ref: SignerRef, *, actor: ActorRef,
                   signature_png: bytes | None = None, storage: Storage | None = None) -> AttachmentInfo:
    """The competent person signs the numbered final PDF with a personal certificate (Phụ lục I, II.7.d).

    Refused before approval, before the number, by anyone but the signer chosen on the draft, and twice."""
    doc = _document(agency_id, document_id)
    if doc.signer_user_id is not None and doc.signer_user_id != actor.user_id:
        raise PermissionDeniedError("Chỉ người ký được chọn trong dự thảo mới ký số văn bản này")
    if doc.approved_at is None:
        raise DocumentStateError("Văn bản chưa được phê duyệt; chưa ký số được")
    if doc.number is None:
        raise DocumentStateError("Văn bản chưa được cấp số; chỉ ký số bản đã có số và ngày ban hành")
    if _latest(doc, "signed") is not None:
        raise DocumentStateError("Văn bản đã được lãnh đạo ký số")
    final = _latest(doc, "final")
    if final is None:
        raise DocumentStateError("Văn bản chưa có bản PDF chính thức (có số, ngày) để ký")
    check_holder(signer_ref, full_name=doc.signer_name or "", email=_actor_email(actor))
    store = storage or default_storage()
    page, box = _box(final)
    agency_code = _agency_code(agency_id)
    image = signature_png or _image(agency_code, "users", f"{_actor_email(actor)}.png")
    width, height = SIGNATURE_MM
    if image is not None:
        appearance = render_image_stamp(image, width_mm=width, height_mm=height)
    else:  # no scanned signature on file: the signer's name and the signing time, as for appendices
        appearance = render_text_stamp(
            [f"Ký bởi: {doc.signer_name or ''}", "Thời gian ký:", clock.local_now().isoformat(timespec="seconds")],
            width_mm=width, height_mm=height, indent_mm=width / 3, size_pt=9,  # the seal covers the left third
        )
    signed = sign_pdf(store.get(final.storage_key), signer_ref, field_name=LEADER_FIELD, page=page, box=box,
                      appearance_pdf=appearance, reason="Phê duyệt ban hành", location=_place(agency_id))
    row = _store_pdf(doc, signed, kind="signed", filename=_pdf_name(doc, "-ky-lanh-dao"), by_user_id=actor.user_id,
                     storage=store, page_count=final.page_count, box=final.signature_box)
    verify_attachment(row, signed, agency_code=agency_code)
    _update_document_verdict(doc)
    db.session.flush()
    return attachment_info(row)


def apply_agency_signature(agency_id: int, document_id: int, agency_ref: SignerRef | None = None, *,
                           actor: ActorRef, pin: str | None = None, seal_png: bytes | None = None,
                           storage: Storage | None = None) -> AttachmentInfo:
    """The clerk applies the agency's signature over the leader's one (Phụ lục I, II.8.a; Điều 26)."""
    doc = _document(agency_id, document_id)
    if "clerk" not in actor.roles or actor.agency_id != agency_id:
        raise PermissionDeniedError("Chỉ văn thư của cơ quan được ký số của cơ quan")
    leader_signed = _latest(doc, "signed")
    if leader_signed is None:
        raise DocumentStateError("Văn bản chưa có chữ ký số của người có thẩm quyền; văn thư chưa được ký số cơ quan")
    if _latest(doc, "sealed") is not None:
        raise DocumentStateError("Văn bản đã có chữ ký số của cơ quan")
    store = storage or default_storage()
    agency_code = _agency_code(agency_id)
    ref = agency_ref or agency_signer_ref(agency_code, pin=pin)
    page, box = _box(leader_signed)
    seal_box = seal_box_over(box, seal_width_mm=SEAL_MM, seal_height_mm=SEAL_MM)
    image = seal_png or _image(agency_code, "seal.png")
    if image is not None:
        appearance = render_image_stamp(image, width_mm=SEAL_MM, height_mm=SEAL_MM)
    else:
        agency = db.session.get(Agency, agency_id)
        appearance = render_seal_stamp(agency.name if agency else "", parent=(agency.governing_body or "") if agency
                                       else "", signed_at=clock.local_now().isoformat(timespec="seconds"),
                                       diameter_mm=SEAL_MM)
    signed = sign_pdf(store.get(leader_signed.storage_key), ref, field_name=AGENCY_FIELD, page=page, box=seal_box,
                      appearance_pdf=appearance, reason="Phát hành văn bản", location=_place(agency_id))
    row = _store_pdf(doc, signed, kind="sealed", filename=_pdf_name(doc, ""), by_user_id=actor.user_id,
                     storage=store, page_count=leader_signed.page_count, box=leader_signed.signature_box)
    verify_attachment(row, signed, agency_code=agency_code)
    _update_document_verdict(doc)
    db.session.flush()
    return attachment_info(row)


def seal_appendices(agency_id: int, document_id: int, agency_ref: SignerRef | None = None, *,
                    actor: ActorRef, pin: str | None = None, storage: Storage | None = None) -> list[AttachmentInfo]:
    """The agency signature on each PDF appendix (Phụ lục I II.8.b): no image, the main document's
    number and notation and the signing time as ISO 8601 text, top right of the first page."""
    doc = _document(agency_id, document_id)
    appendices = [a for a in doc.attachments if a.kind == "appendix" and a.content_type == "application/pdf"]
    if not appendices:
        return []
    if doc.number_notation is None:
        raise DocumentStateError("Văn bản chưa được cấp số; chưa ký số phụ lục được")
    store = storage or default_storage()
    agency_code = _agency_code(agency_id)
    ref = agency_ref or agency_signer_ref(agency_code, pin=pin)
    out = []
    for att in appendices:
        data = store.get(att.storage_key)
        when = clock.local_now().isoformat(timespec="seconds")
        appearance, box = appendix_stamp(data, number_notation=doc.number_notation, signed_at=when)
        signed = sign_pdf(data, ref, field_name=f"{AGENCY_FIELD}PhuLuc{att.id}", page=0, box=box,
                          appearance_pdf=appearance, reason="Phát hành phụ lục văn bản", location=_place(agency_id))
        row = _store_pdf(doc, signed, kind="appendix_signed", filename=att.filename, by_user_id=actor.user_id,
                         storage=store, page_count=att.page_count)
        verify_attachment(row, signed, agency_code=agency_code)
        out.append(attachment_info(row))
    db.session.flush()
    return out


def _agency_code(agency_id: int) -> str:
    code = db.session.scalar(select(Agency.code).where(Agency.id == agency_id))
    if code is None:
        raise NotFoundError("Không tìm thấy cơ quan")
    return code


def _agency_name(agency_id: int) -> str:
    return db.session.scalar(select(Agency.name).where(Agency.id == agency_id)) or ""


def _place(agency_id: int) -> str:
    return db.session.scalar(select(Agency.place).where(Agency.id == agency_id)) or "Vĩnh Phúc"


def _actor_email(actor: ActorRef) -> str:
    from app.tenancy.models import Staff

    email = db.session.scalar(select(Staff.email).where(Staff.user_id == actor.user_id))
    return _safe_name(email or f"user-{actor.user_id}")


def verification_summary(row: Attachment) -> dict[str, object]:
    """The stored verdict as plain data (for JSON views)."""
    return {"status": row.verification_status, "label": row.verification_label,
            "signatures": list(row.verification_detail or ()), "verified_at": row.verified_at}


__all__ = [
    "AGENCY_FIELD",
    "LEADER_FIELD",
    "agency_signer_ref",
    "apply_agency_signature",
    "personal_signer_ref",
    "remote_signer_ref",
    "render_outgoing_pdf",
    "reverify_attachment",
    "sign_as_leader",
    "trust_roots",
    "verify_attachment",
    "worst_status",
]


# -- who holds the key, and where an appendix is signed ------------------------------------------------
def _comparable(text: str | None) -> str:
    return " ".join(nfc(text or "").casefold().split())


def check_holder(ref: SignerRef, *, full_name: str, email: str) -> None:
    """The certificate's holder (e-mail or name in its subject) must be the signing official."""
    holder = signer_holder(ref)
    if holder.email and _comparable(holder.email) == _comparable(email):
        return
    if holder.common_name and _comparable(holder.common_name) == _comparable(full_name):
        return
    raise SignerMismatchError(
        f"Chứng thư số này cấp cho «{holder.common_name}», không phải người ký «{full_name}» của văn bản; "
        "hãy dùng chứng thư số cá nhân của chính người ký",
        log=f"certificate holder {holder.common_name!r} <{holder.email}> != signer {full_name!r} <{email}>",
    )


APPENDIX_STAMP_MM = (62.0, 14.0)
_APPENDIX_MARGIN_MM = (15.0, 10.0)  # from the right and the top edge of the first page


def appendix_stamp(pdf: bytes, *, number_notation: str, signed_at: str) -> tuple[bytes, tuple[float, ...]]:
    """The appendix signature: number and ISO time, top right of the first page as it is (Phụ lục I II.8.b)."""
    width_mm, height_mm = APPENDIX_STAMP_MM
    appearance = render_text_stamp([number_notation, signed_at], width_mm=width_mm, height_mm=height_mm)
    pt = 72 / 25.4
    try:
        box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
        right, top = float(box.right), float(box.top)
    except (PyPdfError, IndexError, ValueError):
        right, top = 595.28, 841.89  # unreadable here: the file was checked at upload, so assume A4
    x2, y2 = right - _APPENDIX_MARGIN_MM[0] * pt, top - _APPENDIX_MARGIN_MM[1] * pt
    return appearance, (x2 - width_mm * pt, y2 - height_mm * pt, x2, y2)
