"""Packages and status messages of several shapes, as the rest of QLVB will hand them to app.interchange."""

from __future__ import annotations

import datetime as dt
import os

from app.interchange import (
    AttachmentInfo,
    BusinessDocType,
    BusinessDocumentInfo,
    BusinessInfo,
    CodeInfo,
    DocumentTypeInfo,
    EnvelopeInfo,
    MessageHeaderInfo,
    OrganInfo,
    OtherInfo,
    PromulgationInfo,
    ReceiverInfo,
    ReplacementInfo,
    ResponseForInfo,
    SignerInfo,
    StaffInfo,
    StatusCode,
    StatusInfo,
    TraceHeaderInfo,
    TraceHeaderListInfo,
    document_id_for,
)

SENDER = OrganInfo("000.06.00.H61", organ_name="Sở Công Thương tỉnh Vĩnh Phúc")
VPCP = OrganInfo("000.00.00.G22", organ_name="Văn phòng Chính phủ")
DAY = dt.date(2026, 12, 3)
DOCUMENT_ID = document_id_for(SENDER.organ_id, DAY, "15", "QĐ-SCT")


def minimal_package() -> EnvelopeInfo:
    return EnvelopeInfo(
        header=MessageHeaderInfo(
            sender=SENDER,
            recipients=(VPCP,),
            code=CodeInfo("15", "QĐ-SCT"),
            promulgation=PromulgationInfo(DAY),
            document_type=DocumentTypeInfo("Quyết định", 1),
            subject="Về việc ban hành quy chế",
            signer=SignerInfo("Nguyễn Văn An"),
            document_id=DOCUMENT_ID,
        )
    )


def full_package() -> EnvelopeInfo:
    sender = OrganInfo(
        "000.06.00.H61",
        organ_name="Sở Công Thương tỉnh Vĩnh Phúc",
        organization_in_charge="UBND tỉnh Vĩnh Phúc",
        organ_add="Số 1 Nguyễn Trãi, phường Đống Đa, thành phố Vĩnh Yên",
        email="vanthu.sct@vinhphuc.gov.vn",
        telephone="0211 3862 000",
        fax="0211 3862 001",
        website="https://sct.vinhphuc.gov.vn",
    )
    earlier = document_id_for("000.00.00.G22", dt.date(2026, 11, 20), "7816", "VPCP-TTĐT")
    return EnvelopeInfo(
        header=MessageHeaderInfo(
            sender=sender,
            recipients=(VPCP, OrganInfo("000.01.00.H61", organ_name="Ban Dân tộc")),
            code=CodeInfo("1234", "QĐ-SCT"),
            promulgation=PromulgationInfo(DAY, "Vĩnh Yên"),
            document_type=DocumentTypeInfo("Quyết định", 1, 2),
            subject="Về việc ban hành Quy chế quản lý văn bản điện tử",
            signer=SignerInfo("Nguyễn Văn An", "Giám đốc", "KT. GIÁM ĐỐC"),
            document_id=document_id_for(sender.organ_id, DAY, "1234", "QĐ-SCT"),
            content="Căn cứ Nghị định số 30/2020/NĐ-CP;\nTheo đề nghị của Chánh Văn phòng Sở.",
            due_date=dt.date(2026, 12, 15),
            to_places=("Như Điều 3;", "UBND tỉnh (b/c);", "Lưu: VT, VP."),
            other=OtherInfo(
                priority=3,
                sphere_of_promulgation="Toàn tỉnh",
                typer_notation="TTB",
                promulgation_amount=12,
                page_amount=3,
                appendixes=("Phụ lục I: Danh mục", "Phụ lục II: Biểu mẫu"),
            ),
            response_for=(ResponseForInfo("000.00.00.G22", "7816/VPCP-TTĐT", dt.date(2026, 11, 20), earlier),),
            steering_type=1,
        ),
        trace=TraceHeaderListInfo(
            business=BusinessInfo(
                doc_type=BusinessDocType.REPLACE,
                doc_reason="Thay thế văn bản ban hành nhầm số",
                document_info=BusinessDocumentInfo(
                    1, 1, (ReceiverInfo("000.00.00.G22", 1), ReceiverInfo("000.01.00.H61"))
                ),
                document_id=document_id_for(sender.organ_id, DAY, "1233", "QĐ-SCT"),
                staff=StaffInfo("Văn phòng", "Trần Thị Bình", "0912345678", "binh@vinhphuc.gov.vn"),
                replacements=(
                    ReplacementInfo(document_id_for(sender.organ_id, DAY, "1233", "QĐ-SCT"), ("000.00.00.G22",)),
                ),
                paper=1,
            ),
            traces=(
                TraceHeaderInfo(sender.organ_id, dt.datetime(2026, 12, 3, 9, 30, 5)),
                TraceHeaderInfo("000.00.00.H61", dt.datetime(2026, 12, 3, 9, 31, 0)),
            ),
        ),
        attachments=(
            AttachmentInfo(
                "qd-1234", "1234-QĐ-SCT.pdf", "application/pdf", b"%PDF-1.7\n" + os.urandom(3000), "Bản ký số"
            ),
            AttachmentInfo("phu-luc", "Phụ lục.docx", "application/vnd.openxmlformats-officedocument"
                           ".wordprocessingml.document", os.urandom(777)),
        ),
    )


def received_status(code: StatusCode = StatusCode.ARRIVED) -> StatusInfo:
    return StatusInfo(
        response_for=ResponseForInfo(SENDER.organ_id, "15/QĐ-SCT", DAY, DOCUMENT_ID),
        sender=VPCP,
        code=code,
        timestamp=dt.datetime(2026, 12, 3, 10, 0, 0),
        description="Văn thư - Phòng Văn thư - Lưu trữ: Đã đến - Phần mềm QLVB đã nhận nhưng văn thư chưa xử lý",
        staff=StaffInfo("Phòng Văn thư - Lưu trữ", "Lê Văn Cường", "0987654321", "cuong@chinhphu.vn"),
    )
