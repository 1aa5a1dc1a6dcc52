"""Which connector reaches a recipient, and the two that live in this deployment.

    LocalConnector   the recipient is one of our agencies: hand the bytes to our own inbox
    HubConnector     we are the province's axis and the recipient is served by a connected system: hold it
                     until that system polls (app.liaison.hub)
    HttpConnector    anything else goes to the external axis configured by QLVB_AXIS_URL (app.axis)
"""

from __future__ import annotations

from app.axis import AxisMessage, Connector, HttpConnector, SendResult

from . import settings
from .errors import NoRouteError
from .organs import local_agency


class LocalConnector:
    name = "local"

    def send(self, payload: bytes, *, kind: str, document_id: str, sender_org: str, recipient_org: str,
             code: str = "") -> SendResult:
        from .services import receive

        result = receive(payload, recipient_org=recipient_org, via="local")
        return SendResult(duplicate=result.duplicate)

    def poll(self, limit: int = 50) -> list[AxisMessage]:
        return []  # nothing waits: a local message is received the moment it is sent

    def ack(self, message_id: str) -> None:
        return None

    def status(self, message_id: str) -> str:
        return "delivered"


class HubConnector:
    name = "hub"

    def __init__(self, system_code: str):
        self.system_code = system_code

    def send(self, payload: bytes, *, kind: str, document_id: str, sender_org: str, recipient_org: str,
             code: str = "") -> SendResult:
        from .hub import hold

        row, duplicate = hold(self.system_code, payload, kind=kind, document_id=document_id,
                              sender_org=sender_org, recipient_org=recipient_org, code=code, from_system="local")
        return SendResult(remote_ids=(str(row.id),), duplicate=duplicate)

    def poll(self, limit: int = 50) -> list[AxisMessage]:
        return []

    def ack(self, message_id: str) -> None:
        return None

    def status(self, message_id: str) -> str:
        from .hub import message_state

        return message_state(self.system_code, message_id)


def hub_system_for(organ_id: str) -> str | None:
    for system in settings.hub_systems().values():
        if organ_id in system.organs:
            return system.code
    return None


def external_connector() -> HttpConnector | None:
    url = settings.axis_url()
    if not url:
        return None
    return HttpConnector(url, system_code=settings.axis_system_code(), token=settings.axis_token(),
                         timeout=settings.axis_timeout())


def route_for(recipient_org: str) -> Connector:
    if local_agency(recipient_org) is not None:
        return LocalConnector()
    system = hub_system_for(recipient_org)
    if system is not None:
        return HubConnector(system)
    external = external_connector()
    if external is not None:
        return external
    raise NoRouteError(f"Chưa có đường gửi đến cơ quan mã định danh {recipient_org}: chưa cấu hình trục liên "
                       "thông (QLVB_AXIS_URL); văn bản được giữ lại và gửi khi có kết nối",
                       log=f"no route to {recipient_org}: not local, no hub system serves it, QLVB_AXIS_URL empty")
