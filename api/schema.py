"""OpenAPI description of the bearer-token scheme (drf-spectacular extension, loaded by the app)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "bat_<prefix>_<secret>",
                "description": "An API token from `manage.py api_token create` or the Tokens page."}


ERRORS = {
    "400": "Invalid parameters or body.",
    "401": "No credentials, or an invalid, expired or revoked token.",
    "403": "Not allowed: a read-only token writing, or not an auditor.",
    "404": "No such object (or not one of the caller's teams'), page (an invalid cursor) or format.",
    "429": "Rate limit of the token exceeded.",
}


def errors_document(result, generator, request, public):
    """drf-spectacular post-processing hook: the error answers every operation can give, with DRF's
    `{"detail": ...}` body, so clients (and schemathesis) know them."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {"type": "object", "properties": {"detail": {"type": "string"}},
                        "additionalProperties": True}
    error = {"schema": {"$ref": "#/components/schemas/Error"}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            _whole_documents(responses, schemas)
            # an error is rendered in the format asked for (e.g. ?format=defectdojo): document each
            media = {m for r in responses.values() for m in r.get("content", {})} | {"application/json"}
            for code, text in ERRORS.items():
                responses.setdefault(code, {"description": text, "content": dict.fromkeys(sorted(media), error)})
    return result


def _whole_documents(responses: dict, schemas: dict) -> None:
    """Export formats of a list (DefectDojo, SARIF) are whole documents, not pages: drf-spectacular
    wraps every list response in its pagination, so undo that for media types other than JSON."""
    for response in responses.values():
        for media, body in response.get("content", {}).items():
            ref = body.get("schema", {}).get("$ref", "")
            name = ref.rsplit("/", 1)[-1]
            if media != "application/json" and name.startswith("Paginated") and name.endswith("List"):
                inner = name[len("Paginated"):-len("List")]
                if inner in schemas:
                    body["schema"] = {"$ref": f"#/components/schemas/{inner}"}
