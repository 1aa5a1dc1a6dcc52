"""Errors of the tenancy domain (Vietnamese messages)."""

from app.core.errors import ConflictError, DomainError, NotFoundError


class AgencyDefinitionError(DomainError):
    code = "agency_definition"


class UnknownHostError(NotFoundError):
    code = "unknown_host"


class OrgInUseError(ConflictError):
    code = "org_in_use"
