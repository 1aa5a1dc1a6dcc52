"""HttpConnector: a QLVB hub (or an axis speaking the same JSON) over HTTP, with the standard library only.

    POST {url}/messages            body: the edXML bytes; headers X-Axis-Kind, X-Axis-Document-Id, …
    GET  {url}/messages?limit=N    {"messages": [{"id", "kind", "document_id", "sender_org", "recipient_org",
                                   "code", "payload" (base64)}]}
    POST {url}/messages/<id>/ack   {"acked": true}
    GET  {url}/messages/<id>       {"state": "held" | "acked"}

Every request carries ``Authorization: Bearer <token>`` and ``X-Axis-System: <system code>``.
"""

from __future__ import annotations

import base64
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .connector import AxisMessage, AxisRefusedError, AxisUnavailableError, SendResult

log = logging.getLogger(__name__)

MAX_ANSWER_BYTES = 256 * 1024 * 1024


class HttpConnector:
    name = "http"

    def __init__(self, url: str, *, system_code: str, token: str, timeout: float = 30.0):
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"axis URL must be http(s): {url!r}")
        self.url = url.rstrip("/")
        self.system_code = system_code
        self.token = token
        self.timeout = timeout

    def _request(self, method: str, path: str, body: bytes | None = None,
                 headers: dict[str, str] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(self.url + path, data=body, method=method, headers={  # noqa: S310
            "Authorization": f"Bearer {self.token}", "X-Axis-System": self.system_code,
            "Accept": "application/json", **(headers or {}),
        })
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310 (http(s) checked)
                raw = answer.read(MAX_ANSWER_BYTES)
        except urllib.error.HTTPError as error:
            text = _error_text(error)
            if 400 <= error.code < 500 and error.code not in (408, 429):
                raise AxisRefusedError(f"Trục liên thông từ chối: {text}",
                                       log=f"axis {method} {path}: HTTP {error.code}: {text}") from None
            raise AxisUnavailableError(f"Trục liên thông đang lỗi (HTTP {error.code}), sẽ gửi lại sau",
                                       log=f"axis {method} {path}: HTTP {error.code}: {text}") from None
        except (TimeoutError, urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise AxisUnavailableError("Không kết nối được trục liên thông, sẽ gửi lại sau",
                                       log=f"axis {method} {self.url}{path}: {reason}") from None
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            raise AxisUnavailableError("Trục liên thông trả lời không đúng định dạng",
                                       log=f"axis {method} {path}: not JSON: {raw[:200]!r}") from None
        return data if isinstance(data, dict) else {}

    def send(self, payload: bytes, *, kind: str, document_id: str, sender_org: str, recipient_org: str,
             code: str = "") -> SendResult:
        data = self._request("POST", "/messages", payload, {
            "Content-Type": "application/xml", "X-Axis-Kind": kind,
            "X-Axis-Document-Id": urllib.parse.quote(document_id), "X-Axis-Sender": sender_org,
            "X-Axis-Recipient": recipient_org, "X-Axis-Code": code,
        })
        return SendResult(remote_ids=tuple(str(i) for i in data.get("ids", [])),
                          duplicate=bool(data.get("duplicate")))

    def poll(self, limit: int = 50) -> list[AxisMessage]:
        data = self._request("GET", f"/messages?limit={int(limit)}")
        out = []
        for item in data.get("messages", []):
            try:
                out.append(AxisMessage(
                    id=str(item["id"]), kind=str(item["kind"]), document_id=str(item.get("document_id", "")),
                    sender_org=str(item.get("sender_org", "")), recipient_org=str(item.get("recipient_org", "")),
                    code=str(item.get("code", "")), payload=base64.b64decode(item["payload"], validate=True),
                ))
            except (KeyError, TypeError, ValueError) as error:
                log.warning("axis poll: message dropped, malformed entry %r: %s", str(item)[:200], error)
        return out

    def ack(self, message_id: str) -> None:
        self._request("POST", f"/messages/{urllib.parse.quote(message_id)}/ack", b"")

    def status(self, message_id: str) -> str:
        return str(self._request("GET", f"/messages/{urllib.parse.quote(message_id)}").get("state", ""))


def _error_text(error: urllib.error.HTTPError) -> str:
    try:
        body = error.read(64 * 1024)
        data = json.loads(body)
        return str(data.get("error") or data)[:2000]
    except (ValueError, OSError, AttributeError):
        return str(error.reason)[:2000]
