"""OpenAPI post-processing: the error answers every API operation can give, documented once.

drf-spectacular documents the success responses a view declares. The errors come from the
framework around the views (tenancy 404s, role 403s, throttling 429s, validation 400s, the
Idempotency-Key 409/422s of ADR 3), so they are added here for every operation rather than
repeated, and drifting, in every ``extend_schema``. Schemathesis checks the answers against them
(tests/test_api_schemathesis.py).
"""

from __future__ import annotations

from typing import Any

ERROR_COMPONENT = "Error"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "An error. `detail` holds a translated message fit to show the person; invalid input "
        "answers each field's messages under the field's name instead."
    ),
    "properties": {
        "detail": {"description": "A translated message (or, for invalid input, a list of messages)."},
        "field": {"type": "string", "nullable": True, "description": "The input field at fault, if any."},
        "code": {"type": "string", "description": "A machine-readable reason, e.g. `invalid_transition`."},
    },
    "additionalProperties": True,
}
EVERY_OPERATION = {
    "400": "Invalid input, or a field that cannot be set here.",
    "403": "Not signed in, or your role in this brand does not allow this.",
    "404": "No such object, or it belongs to a brand you are not a member of.",
    "429": "Too many requests; retry after the time in the Retry-After header.",
}
IDEMPOTENT_WRITES = {
    "409": "A request with this Idempotency-Key is still being processed.",
    "422": "This Idempotency-Key was already used for a different request.",
}
METHODS = ("get", "post", "put", "patch", "delete")


def document_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOK: adds the error responses an operation does not declare."""
    reference = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method in METHODS:
            operation = operations.get(method)
            if operation is None:
                continue
            codes = dict(EVERY_OPERATION)
            if any(
                p.get("in") == "header" and p.get("name") == "Idempotency-Key" for p in operation.get("parameters", [])
            ):
                codes.update(IDEMPOTENT_WRITES)
            responses = operation.setdefault("responses", {})
            for code, description in codes.items():
                responses.setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": reference}}}
                )
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    return result
