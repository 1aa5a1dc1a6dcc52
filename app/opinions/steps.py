"""What the steps of the opinion processes mean (xin ý kiến, and answering a copy from another agency)."""

from __future__ import annotations

from typing import Any

from app.workflow import steps as wfs
from app.workflow.operations import register_operation
from app.workflow.steps import FieldNeed, ProcessKindInfo, StepContext, StepKindInfo

from . import services

REQUEST = StepKindInfo("request", "Lập phiếu xin ý kiến",
                       "Người xin ý kiến nêu nội dung, người/cơ quan được hỏi và hạn trả lời.",
                       fields=(FieldNeed("title", "Tiêu đề"), FieldNeed("deadline", "Hạn trả lời")), unique=True,
                       roles=("specialist", "head", "leader"), produces=("reviewer",))
ANSWER = StepKindInfo("answer", "Cho ý kiến",
                      "Người được hỏi cho ý kiến (đồng ý, đồng ý có ý kiến, không đồng ý); ý kiến được ghi vào phiếu "
                      "và gửi lại cơ quan hỏi khi là phiếu liên thông.",
                      fields=(FieldNeed("answer", "Ý kiến"),), roles=("leader", "head", "specialist"))
CONSOLIDATE = StepKindInfo("consolidate", "Tổng hợp ý kiến",
                           "Người xin ý kiến tổng hợp, tiếp thu và đóng phiếu.",
                           fields=(FieldNeed("summary", "Báo cáo tổng hợp"),), unique=True,
                           roles=("specialist", "head", "leader"))

REQUEST_KIND = ProcessKindInfo(key=services.PROCESS_KEY, label="Xin ý kiến góp ý", subject_type=services.SUBJECT_TYPE,
                               steps=(REQUEST, ANSWER, CONSOLIDATE), required=("request", "answer", "consolidate"),
                               start_fields=())
ANSWER_KIND = ProcessKindInfo(key=services.ANSWER_PROCESS_KEY, label="Trả lời xin ý kiến liên thông",
                              subject_type=services.SUBJECT_TYPE, steps=(ANSWER,), required=("answer",),
                              start_fields=("reviewer", "deadline", "opinion_request_id", "origin_agency_id"))


def _flat(files: Any) -> list[Any]:
    if isinstance(files, dict):
        return [u for items in files.values() for u in items]
    return list(files or ())


def _complete(ctx: StepContext, proceed: wfs.Proceed) -> None:
    # The domain service completes the step itself (its wf.complete_task call is this step's proceed).
    services.complete_step(ctx.task, ctx.actor, ctx.data, _flat(ctx.inputs.get("files")), ctx.comment)


def register_step_kinds() -> None:
    wfs.register_process_kind(REQUEST_KIND)
    wfs.register_process_kind(ANSWER_KIND)
    for process in (services.PROCESS_KEY, services.ANSWER_PROCESS_KEY):
        for kind in ("answer", "consolidate"):
            wfs.register_step_handler(process, kind, _complete)
    register_operation(services.OPERATION, services.request_external_operation, replace=True,
                       outputs=("external_copies",))
