"""A domain ValidationError shown on a generated form: each field's messages under that field, the rest returned
(an input beside the form — a PIN, a reason, a title — is named in the flashed message instead)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def attach_field_errors(form: Any, field_errors: Mapping[str, Sequence[str]], *,
                        beside: Sequence[str] = ()) -> list[str]:
    """Put each message on its form field; return the messages of fields the form does not have, except those
    named in ``beside`` (the page shows those next to their own input)."""
    elsewhere: list[str] = []
    for name, messages in field_errors.items():
        if form is not None and name in form:
            form[name].errors = list(form[name].errors or []) + list(messages)
        elif name not in beside:
            elsewhere.extend(messages)
    return elsewhere
