"""What the steps of the task-assignment process mean (giao việc, Art 2.2 QĐ 52/2014)."""

from __future__ import annotations

from typing import Any

from app.workflow import steps as wfs
from app.workflow.steps import FieldNeed, ProcessKindInfo, StepContext, StepKindInfo

from . import services

KINDS = (
    StepKindInfo("assign_task", "Giao nhiệm vụ",
                 "Người giao việc chọn người chủ trì, người/đơn vị phối hợp và hạn hoàn thành.",
                 fields=(FieldNeed("title", "Tên nhiệm vụ"), FieldNeed("lead_user_id", "Người chủ trì"),
                         FieldNeed("deadline", "Hạn hoàn thành")), unique=True, roles=("leader", "head"),
                 produces=("lead_user_id", "deadline")),
    StepKindInfo("report", "Báo cáo tiến độ, kết quả",
                 "Người chủ trì báo cáo tỷ lệ hoàn thành, kết quả hoặc đề nghị gia hạn; công việc ghi nhận báo cáo.",
                 fields=(FieldNeed("percent", "Tỷ lệ hoàn thành"),), roles=("specialist",),
                 produces=("percent", "request_extension", "new_deadline")),
    StepKindInfo("extension_decision", "Xét đề nghị gia hạn",
                 "Người giao việc đồng ý hoặc không đồng ý gia hạn; hạn mới được ghi vào công việc.",
                 fields=(FieldNeed("decision", "Quyết định (đồng ý / không đồng ý)"),), roles=("leader", "head")),
    StepKindInfo("evaluate", "Đánh giá kết quả",
                 "Người giao việc đánh giá kết quả; «không đạt» trả lại để làm tiếp.",
                 fields=(FieldNeed("rating", "Đánh giá"),), roles=("leader", "head"), produces=("decision",)),
)
PROCESS_KIND = ProcessKindInfo(
    key=services.PROCESS_KEY, label="Giao việc", subject_type=services.SUBJECT_TYPE, steps=KINDS,
    required=("assign_task", "report", "evaluate"), start_fields=(),
)


def _flat(files: Any) -> list[Any]:
    if isinstance(files, dict):
        return [u for items in files.values() for u in items]
    return list(files or ())


def _complete(ctx: StepContext, proceed: wfs.Proceed) -> None:
    # The domain service completes the step itself (its wf.complete_task call is this step's proceed).
    services.complete_step(ctx.task, ctx.actor, ctx.data, _flat(ctx.inputs.get("files")), ctx.comment)


def register_step_kinds() -> None:
    wfs.register_process_kind(PROCESS_KIND)
    for kind in ("report", "extension_decision", "evaluate"):
        wfs.register_step_handler(services.PROCESS_KEY, kind, _complete)
