"""What the steps of the incoming and outgoing processes mean (the contract of DESIGN.md).

The documents domain declares the two processes of Art 12 with the step kinds their diagrams may use
and must contain, and performs each kind's effects when the workflow adapter completes such a step:
the agency admin may rename, reorder or add steps, and the rules still hold because they follow the
kind, never an element id or a form key.
"""

from __future__ import annotations

from typing import Any

from app.core.errors import RefusedError
from app.workflow import queries as wfq
from app.workflow import steps as wfs
from app.workflow.info import InstanceInfo
from app.workflow.operations import register_operation
from app.workflow.steps import FieldNeed, InputNeed, ProcessKindInfo, StepContext, StepKindInfo

from . import chain, deadline_rules, services, workflow_ops

INCOMING = services.INCOMING_PROCESS
OUTGOING = services.OUTGOING_PROCESS

INCOMING_KINDS = (
    StepKindInfo(
        "register", "Vào sổ văn bản đến",
        "Văn thư kiểm tra, vào sổ và cấp số đến (Điều 22 NĐ 30). Văn bản điện tử nhận qua liên thông đã có sẵn "
        "thông tin, văn thư chỉ xác nhận; văn bản có chữ ký số không hợp lệ phải được xác nhận có lý do hoặc trả lại.",
        fields=(FieldNeed("number_notation", "Số, ký hiệu"), FieldNeed("issuer_name", "Cơ quan ban hành"),
                FieldNeed("issue_date", "Ngày văn bản"), FieldNeed("summary", "Trích yếu")),
        unique=True, roles=("clerk",),
        produces=("number", "number_notation", "issuer_name", "channel", "back_entered", "lead_department_id",
                  "due_date"),
        asks=(InputNeed("signature_reason", "Lý do vẫn vào sổ dù chữ ký số không hợp lệ", "textarea",
                        "Chỉ cần khi chữ ký số của văn bản không hợp lệ hoặc không được tin cậy; nếu không, hãy "
                        "trả lại văn bản cho nơi gửi."),),
    ),
    StepKindInfo(
        "assign", "Phân công xử lý",
        "Lãnh đạo chọn đơn vị chủ trì, đơn vị phối hợp và hạn xử lý; văn bản ghi nhận phân công và chuyển sang "
        "«Đang xử lý».",
        fields=(FieldNeed("lead_department_id", "Đơn vị chủ trì"),), roles=("leader",),
        bulk_field="lead_department_id",
    ),
    StepKindInfo(
        "assign_person", "Giao người xử lý",
        "Trưởng đơn vị giao văn bản cho một cán bộ xử lý (trường chọn người ở biểu mẫu).", roles=("head",),
    ),
    StepKindInfo(
        "process", "Xử lý văn bản",
        "Cán bộ xử lý ghi kết quả; có thể đề nghị dự thảo văn bản trả lời.", roles=("specialist",),
    ),
    StepKindInfo(
        "confirm", "Xác nhận kết quả xử lý",
        "Trưởng đơn vị hoặc lãnh đạo xác nhận kết quả hoặc trả lại để xử lý tiếp.",
        fields=(FieldNeed("decision", "Ý kiến (đồng ý / trả lại)"),), roles=("head", "leader"),
    ),
)

OUTGOING_KINDS = (
    StepKindInfo(
        "draft", "Dự thảo văn bản",
        "Chuyên viên soạn hoặc sửa dự thảo (nội dung và tệp); mỗi lần trình được lưu thành một phiên bản "
        "trong lịch sử văn bản.",
        fields=(FieldNeed("doc_type", "Loại văn bản"), FieldNeed("summary", "Trích yếu")),
        unique=True, roles=("specialist",),
    ),
    StepKindInfo(
        "review", "Kiểm tra dự thảo",
        "Trưởng đơn vị kiểm tra dự thảo, đồng ý trình hoặc trả lại để sửa.",
        fields=(FieldNeed("decision", "Ý kiến (đồng ý / trả lại)"),), roles=("head",),
    ),
    StepKindInfo(
        "approve", "Phê duyệt nội dung",
        "Lãnh đạo duyệt nội dung (không ký); việc ký số do bước «Phê duyệt và ký số» thực hiện.",
        fields=(FieldNeed("decision", "Ý kiến (phê duyệt / trả lại)"),), roles=("leader",),
    ),
    StepKindInfo(
        "sign", "Phê duyệt và ký số",
        "Người ký được chọn ở dự thảo phê duyệt; hệ thống cấp số, ngày ban hành, dựng bản PDF chính thức và "
        "người ký ký số cá nhân lên đúng bản đó (nhập mã PIN). Cơ quan ban hành bản giấy: chỉ phê duyệt.",
        fields=(FieldNeed("decision", "Ý kiến (phê duyệt / trả lại)"),), unique=True, roles=("leader",),
        produces=("number", "number_notation", "issue_date"),
        asks=(InputNeed("pin", "Mã PIN chứng thư số cá nhân", "password",
                        "Cần khi phê duyệt: hệ thống cấp số, dựng bản chính thức và ký số bằng chứng thư của bạn."),),
    ),
    StepKindInfo(
        "issue", "Phát hành văn bản",
        "Văn thư kiểm tra bản đã ký và ký số của cơ quan (Phụ lục I mục II.8), kể cả các tệp phụ lục PDF; "
        "cơ quan ban hành bản giấy: cấp số và đính kèm bản quét.",
        unique=True, roles=("clerk",), produces=("number", "number_notation", "issue_date"),
        asks=(InputNeed("pin", "Mã PIN chứng thư số của cơ quan", "password",
                        "Mã PIN của thiết bị ký số (hoặc tệp khóa) của cơ quan do văn thư giữ; để trống nếu quản trị "
                        "đã cấu hình ký số cơ quan tự động."),),
    ),
    StepKindInfo(
        "deliver", "Gửi văn bản điện tử",
        "Hệ thống gửi đúng tệp đã ký số của cơ quan tới các cơ quan nhận (thao tác tự động «documents.deliver»).",
        automatic=True, unique=True, produces=("delivered_count",),
    ),
)

INCOMING_PROCESS_KIND = ProcessKindInfo(
    key=INCOMING, label="Xử lý văn bản đến", subject_type="incoming", steps=INCOMING_KINDS,
    required=("register", "assign", "process"),
    start_fields=("document_id", "summary", "urgency", "number", "number_notation", "due_date",
                  "source_document_id"),
    description="Quy trình bắt buộc theo Điều 12 Quyết định 52/2014/QĐ-UBND.",
)
OUTGOING_PROCESS_KIND = ProcessKindInfo(
    key=OUTGOING, label="Soạn thảo, ban hành văn bản đi", subject_type="outgoing", steps=OUTGOING_KINDS,
    required=("draft", "sign", "issue", "deliver"),
    start_fields=("document_id", "summary", "urgency", "signer_id", "source_document_id", "due_date"),
    description="Quy trình bắt buộc theo Điều 12 Quyết định 52/2014/QĐ-UBND.",
)


# -- handlers: the effects of each kind, around the engine step ---------------------------------
def _register(ctx: StepContext, proceed: wfs.Proceed) -> InstanceInfo:
    data = services.complete_registration(ctx.task.subject_id, actor=ctx.actor, data=ctx.data,
                                          confirm_duplicate=bool(ctx.inputs.get("confirm_duplicate")),
                                          signature_reason=ctx.inputs.get("signature_reason"))
    return proceed(data)


def _assign(ctx: StepContext, proceed: wfs.Proceed) -> InstanceInfo:
    deadline_rules.check_not_past(ctx.data.get("deadline"))
    lead = ctx.data.get("lead_department_id")
    coordinating = ctx.data.get("coordinating_department_ids") or ()
    if isinstance(coordinating, str | int):
        coordinating = [coordinating]
    services.record_assignment(ctx.task.subject_id, actor=ctx.actor, lead_department_id=_int(lead),
                               coordinating_department_ids=[i for i in map(_int, coordinating) if i],
                               due_date=ctx.data.get("deadline"))
    return proceed(ctx.data)


def _assign_person(ctx: StepContext, proceed: wfs.Proceed) -> InstanceInfo:
    deadline_rules.check_person_deadline(ctx.task.subject_id, ctx.data.get("deadline"))
    services.mark_processing(ctx.task.subject_id)
    return proceed(ctx.data)


def _process(ctx: StepContext, proceed: wfs.Proceed) -> InstanceInfo:
    services.mark_processing(ctx.task.subject_id)
    return proceed(ctx.data)


def _incoming_done(instance: InstanceInfo) -> None:
    services.set_status(instance.subject_id, "done")


def _draft(ctx: StepContext, proceed: wfs.Proceed) -> InstanceInfo:
    form = chain.submit_draft(ctx.task.subject_id, actor=ctx.actor, data=ctx.data, files=ctx.inputs.get("files") or (),
                              comment=ctx.comment)
    return proceed(form)


def _review(ctx: StepContext, proceed: wfs.Proceed) -> InstanceInfo:
    chain.record_review(ctx.task.subject_id, actor=ctx.actor, decision=ctx.data.get("decision"))
    return proceed(ctx.data)


def _approve(ctx: StepContext, proceed: wfs.Proceed) -> InstanceInfo:
    chain.record_approval(ctx.task.subject_id, actor=ctx.actor, decision=ctx.data.get("decision"))
    return proceed(ctx.data)


def _sign(ctx: StepContext, proceed: wfs.Proceed) -> InstanceInfo:
    if ctx.actor.acting_for is not None and ctx.data.get("decision") not in ("return", "send_back", "rework"):
        # The signer chosen on the draft signs with their own certificate (signatures.check_holder); a deputy
        # signing "KT." in their own name needs the draft's signer changed, which is the drafter's choice.
        raise RefusedError(
            "Bước ký số không ủy quyền được: văn bản phải do chính người ký đã chọn ở dự thảo ký bằng chứng thư số "
            "của mình. Nếu bạn ký thay, hãy đề nghị trả lại dự thảo để chọn bạn là người ký.",
            log=f"deputy {ctx.actor.user_id} refused on sign step {ctx.task.id} (for {ctx.actor.acting_for})")
    added = chain.approve_and_sign(ctx.task.subject_id, actor=ctx.actor, decision=ctx.data.get("decision"),
                                   pin=ctx.inputs.get("pin"))
    return proceed({**ctx.data, **added})


def _issue(ctx: StepContext, proceed: wfs.Proceed) -> InstanceInfo:
    added = chain.seal_and_issue(ctx.task.subject_id, actor=ctx.actor, data=ctx.data,
                                 files=ctx.inputs.get("files") or (), pin=ctx.inputs.get("pin"))
    return proceed({**ctx.data, **added})


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def register_step_kinds() -> None:
    """Declare the two processes and their kinds, and the service operations (idempotent)."""
    wfs.register_process_kind(INCOMING_PROCESS_KIND)
    wfs.register_process_kind(OUTGOING_PROCESS_KIND)
    wfs.register_step_handler(INCOMING, "register", _register)
    wfs.register_step_handler(INCOMING, "assign", _assign)
    wfs.register_step_handler(INCOMING, "assign_person", _assign_person)
    wfs.register_step_handler(INCOMING, "process", _process)
    wfs.register_completion_hook(INCOMING, _incoming_done)
    wfs.register_prefill(INCOMING, "register", chain.registration_prefill)
    wfs.register_step_handler(OUTGOING, "draft", _draft)
    wfs.register_step_handler(OUTGOING, "review", _review)
    wfs.register_step_handler(OUTGOING, "approve", _approve)
    wfs.register_step_handler(OUTGOING, "sign", _sign)
    wfs.register_step_handler(OUTGOING, "issue", _issue)
    wfs.register_prefill(OUTGOING, "draft", chain.draft_prefill)
    for name, (fn, kind, outputs) in workflow_ops.OPERATIONS.items():
        register_operation(name, fn, replace=True, kind=kind, outputs=outputs)
    register_inbox_filters()


# What the inbox's filters and order mean for documents (app/workflow/queries): one primary-key lookup per task.
_RANK_SQL = ("SELECT CASE d.urgency WHEN 'thuong' THEN 0 WHEN 'khan' THEN 1 WHEN 'thuong_khan' THEN 2 "
             "WHEN 'hoa_toc' THEN 3 END FROM document d WHERE d.id = human_task.subject_id")


def register_inbox_filters() -> None:
    types = ("incoming", "outgoing")
    wfq.register_subject_filter("urgency", types, "EXISTS (SELECT 1 FROM document d WHERE d.id = "
                                "human_task.subject_id AND d.urgency = :f_urgency)")
    wfq.register_subject_filter("department", types, "EXISTS (SELECT 1 FROM document d WHERE d.id = "
                                "human_task.subject_id AND (d.lead_department_id = :f_department "
                                "OR d.drafting_department_id = :f_department))")
    wfq.register_subject_sort("urgency", types, _RANK_SQL)
