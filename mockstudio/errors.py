"""Domain errors carrying Twilio's error `code`, HTTP `status` and `message`.

The HTTP layer renders every one of these as Twilio's error body
`{"code", "message", "more_info", "status"}` (+ `details` where Twilio has it);
see studio-v2-api.md §D. Nothing here imports a web framework.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Conflict",
    "ExecutionAlreadyActive",
    "ExecutionAlreadyEnded",
    "InvalidPageToken",
    "InvalidParameter",
    "MethodNotAllowed",
    "MissingParameter",
    "NotFound",
    "PayloadTooLarge",
    "TwilioError",
    "Unauthorized",
]


class TwilioError(Exception):
    """An error Twilio would answer with; `details` is only sent when not None."""

    status: int = 400
    code: int = 20001

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    @property
    def more_info(self) -> str:
        return f"https://www.twilio.com/docs/errors/{self.code}"


class MissingParameter(TwilioError):
    """400/20001, worded as the live API words it (twilio-go issue #250, §D.2)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Missing required parameter {name} in the post body")


class InvalidParameter(TwilioError):
    """400/20001 for a present but unusable value (wording chosen; UNCONFIRMED in §J)."""


class InvalidPageToken(TwilioError):
    """400/21481 "Invalid PageToken" (Twilio's generic paging error, §B.1)."""

    code = 21481

    def __init__(self) -> None:
        super().__init__("Invalid PageToken")


class NotFound(TwilioError):
    """404/20404. The message names the version-relative request path, which only the
    HTTP layer knows, so it is filled in there (§D.2: `/Flows/FW71`)."""

    status = 404
    code = 20404

    def __init__(self, message: str = "") -> None:
        super().__init__(message)


class Unauthorized(TwilioError):
    """401/20003 (§D.2, §E)."""

    status = 401
    code = 20003

    def __init__(self, message: str = "Authenticate") -> None:
        super().__init__(message)


class Conflict(TwilioError):
    """409/20409."""

    status = 409
    code = 20409


class ExecutionAlreadyActive(Conflict):
    """The documented one-active-execution-per-contact 409 (DOC-EXEC, §D.2): note the
    message has no trailing period."""

    def __init__(self, conflicting_execution_sid: str) -> None:
        super().__init__(
            f"Execution {conflicting_execution_sid} is already active for this contact. "
            "End the active Execution before creating a new one",
            details={"conflicting_execution_sid": conflicting_execution_sid},
        )


class ExecutionAlreadyEnded(Conflict):
    """DOC-EXEC: ending an ended Execution "will fail with a 409 Conflict" (wording chosen)."""

    def __init__(self, execution_sid: str) -> None:
        super().__init__(f"Execution {execution_sid} has already ended")


class MethodNotAllowed(TwilioError):
    """405/20004 "Method not allowed" (Twilio's error dictionary)."""

    status = 405
    code = 20004

    def __init__(self) -> None:
        super().__init__("Method not allowed")


class PayloadTooLarge(TwilioError):
    """413 for an oversized body; code chosen after Twilio's 20xxx = HTTP status pattern."""

    status = 413
    code = 20413

    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body exceeds the limit of {limit} bytes")
