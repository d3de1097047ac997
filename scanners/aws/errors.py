"""Turn botocore errors into what the pipeline understands, naming the call that failed."""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    ConnectionError,  # noqa: A004
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from ..registry import ProbeError, ProbeUnavailable

THROTTLING = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
              "ServiceUnavailable", "InternalFailure"}


def error_code(exc: Exception) -> str:
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


def is_unavailable(exc: Exception) -> bool:
    return isinstance(exc, EndpointConnectionError | ConnectionError | ReadTimeoutError) or (
        error_code(exc) in THROTTLING
    )


def error_text(exc: Exception, *, where: str) -> str:
    code = error_code(exc)
    if code:
        message = exc.response.get("Error", {}).get("Message", "")
        return f"{where}: {code}: {message}".rstrip(": ")
    return f"{where}: {type(exc).__name__}: {exc}"


def error_raise(exc: Exception, *, where: str):
    """Unreachable or throttled (after botocore's retries) -> ProbeUnavailable; otherwise ProbeError."""
    if is_unavailable(exc):
        raise ProbeUnavailable(error_text(exc, where=where)) from exc
    if isinstance(exc, NoCredentialsError):
        raise ProbeError(f"{where}: no AWS credentials in the environment or ambient identity") from exc
    raise ProbeError(error_text(exc, where=where)) from exc
