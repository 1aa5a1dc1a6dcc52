"""Connectors to a document axis: they move bytes, nothing else (no database, no Flask, no edXML parsing).

    Connector         the one interface: send(payload, ...), poll(limit), ack(id), status(id)
    HttpConnector     an external axis or a QLVB hub over HTTP (QLVB_AXIS_URL, QLVB_AXIS_SYSTEM_CODE,
                      QLVB_AXIS_TOKEN); the wire format is the hub's, see app/web/axis_hub.py
    AxisUnavailableError   try again later (connection lost, timeout, 5xx)
    AxisRefusedError       the axis said no for good (4xx): sending again will not help
"""

from .connector import (
    AxisError,
    AxisMessage,
    AxisRefusedError,
    AxisUnavailableError,
    Connector,
    SendResult,
)
from .http import HttpConnector

__all__ = [
    "AxisError",
    "AxisMessage",
    "AxisRefusedError",
    "AxisUnavailableError",
    "Connector",
    "HttpConnector",
    "SendResult",
]
