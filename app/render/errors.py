"""Errors raised while turning templates into PDF; every message is shown to the user as is."""

from __future__ import annotations

from app.core.errors import DomainError, RefusedError, ValidationError


class RenderError(DomainError):
    """The PDF could not be produced (broken template, layout failure)."""

    code = "render_error"


class TemplateUnsafeError(RefusedError):
    """An agency template tried to reach Python internals through the sandbox."""

    code = "template_unsafe"


class TemplateSyntaxError(ValidationError):
    """An agency template does not parse; ``details`` carries the line number."""

    code = "template_syntax"


class AssetRefusedError(RefusedError):
    """A template referred to a resource outside the allow-list (network, local files)."""

    code = "asset_refused"
