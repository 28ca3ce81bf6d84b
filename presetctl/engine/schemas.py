"""The bundled JSON Schemas and their validators.

The schemas live in the repository's ``schemas/`` folder and ship inside the wheel as
``presetctl/schemas``. Validation uses jsonschema-rs (compiled, ~50x faster) to decide whether
a document is valid; only invalid documents are re-validated with python-jsonschema, the
reference implementation, for complete, readable errors with best-match for anyOf/oneOf.
tests/test_fast_path.py holds the two engines against each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from presetctl.engine import pointer

# Both validators are imported when the first presetctl JSON document is checked (jsonschema-rs), or
# the first invalid one (the reference, ~80 ms): a run over other formats pays neither.
if TYPE_CHECKING:
    import jsonschema
    from jsonschema.exceptions import ValidationError


def schema_path(name: str) -> Path:
    packaged = resources.files("presetctl").joinpath("schemas", name)
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "schemas" / name  # source checkout


@cache
def load_schema(name: str = "preset.schema.json") -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(schema_path(name).read_bytes())
    return data


@cache
def fast_validator(name: str = "preset.schema.json") -> Any:
    import jsonschema_rs

    return jsonschema_rs.validator_for(load_schema(name))


@cache
def reference_validator(name: str = "preset.schema.json") -> jsonschema.Draft202012Validator:
    import jsonschema

    return jsonschema.Draft202012Validator(load_schema(name), format_checker=jsonschema.FormatChecker())


def pointer_of(error: ValidationError) -> str:
    return pointer.join(error.absolute_path)


def _short(msg: str) -> str:
    # Long instance reprs (a 50 MB string) would flood the report: keep messages short.
    return msg if len(msg) <= 300 else msg[:240] + " ... " + msg[-40:]


def _readable(error: ValidationError) -> str:
    return _short(str(error.message))


def schema_errors(instance: Any, name: str = "preset.schema.json") -> Iterator[tuple[str, str]]:
    """(pointer, message) for every schema error; nothing at all for a valid document."""
    fast = fast_validator(name)
    if fast.is_valid(instance):
        return
    from jsonschema.exceptions import best_match

    reported: set[str] = set()
    for error in sorted(reference_validator(name).iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        reported.add(pointer_of(error))
        if error.context:  # anyOf/oneOf: name the alternative that came closest
            error = best_match(error.context) or error
        reported.add(pointer_of(error))
        yield pointer_of(error), _readable(error)
    # The engines disagree only where Python's regex differs from the ECMA-262 regex JSON Schema
    # specifies: `$` also matches before a final newline in Python, so python-jsonschema accepts
    # "1.0\n" for "^1\\.[0-9]+$". jsonschema-rs follows the spec: what only it finds is reported too.
    for rs_error in fast.iter_errors(instance):
        where = pointer.join(rs_error.instance_path)
        if where not in reported:
            yield where, _short(str(rs_error.message))
