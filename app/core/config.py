"""Checked dataclass fields from JSON: the one place a settings dict (project, config file,
preferences) becomes typed values.

Each known key must hold its field's type (``bool``, ``int``, ``float``, ``str``, ``list[str]``)
and numbers must be finite; an int is accepted for a float. Unknown keys (from newer versions)
are ignored. ``strict`` raises ``HuebrushError`` naming the file and the field; otherwise the
field keeps its default and ``warn`` receives that sentence.
"""
from __future__ import annotations

import math
import typing
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from .errors import HuebrushError


def _check(value: Any, hint: Any) -> Any:
    """The value as the field's type, or ValueError."""
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint in (int, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise ValueError("not a finite number")
            if hint is int and float(value) != int(value):
                raise ValueError("not a whole number")
            return hint(value)
    elif hint is str:
        if isinstance(value, str):
            return value
    elif typing.get_origin(hint) is list and typing.get_args(hint) == (str,):
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
    else:
        raise TypeError(f"no check for fields of type {hint!r}")
    raise ValueError(f"expected {getattr(hint, '__name__', str(hint))}")


def fields_from_dict(cls, data: Any, *, source: str, strict: bool = True,
                     warn: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Keyword arguments for dataclass ``cls`` from ``data`` (see the module docstring)."""
    if not isinstance(data, dict):
        msg = f"{source} must hold a JSON object of settings; fix or remove it."
        if strict:
            raise HuebrushError(msg)
        if warn:
            warn(msg)
        return {}
    hints = typing.get_type_hints(cls)
    out: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        try:
            out[f.name] = _check(data[f.name], hints[f.name])
        except ValueError as e:
            msg = f"{source}: setting '{f.name}' has an invalid value {data[f.name]!r} ({e}); fix or remove it."
            if strict:
                raise HuebrushError(msg) from None
            if warn:
                warn(msg)
    return out
