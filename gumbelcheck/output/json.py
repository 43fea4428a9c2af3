"""Results as plain JSON."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def jsonable(obj: Any) -> Any:
    """Convert a result (dataclasses, numpy values, tuples) to plain JSON types.

    Non-finite floats become None, because JSON has no NaN or infinity.
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(key): jsonable(value) for key, value in obj.items()}
    if isinstance(obj, np.ndarray):
        return [jsonable(value) for value in obj.tolist()]
    if isinstance(obj, list | tuple):
        return [jsonable(value) for value in obj]
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    return obj


def to_json(obj: Any) -> str:
    """Plain, indented JSON of a result."""
    return json.dumps(jsonable(obj), indent=2, allow_nan=False) + "\n"
