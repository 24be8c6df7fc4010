"""Domain errors carrying Twilio's error `code`, HTTP `status` and `message`.

The HTTP layer renders every one of these as Twilio's error body
`{"code", "message", "more_info", "status"}` (+ `details` where Twilio has it);
see https://www.twilio.com/docs/usage/twilios-response. Nothing here imports a web framework.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Conflict",
    "ExecutionAlreadyActive",
    "ExecutionAlreadyEnded",
    "FlowNotPublished",
    "FlowValidationFailed",
    "InternalServerError",
    "InvalidPageToken",
    "InvalidParameter",
    "MethodNotAllowed",
    "MissingParameter",
    "NotFound",
    "NotWaiting",
    "PayloadTooLarge",
    "StateFileWriteFailed",
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
    """400/20001, worded as the live API words it (quoted in https://github.com/twilio/twilio-go/issues/250)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Missing required parameter {name} in the post body")


class InvalidParameter(TwilioError):
    """400/20001 for a present but unusable value (the wording is ours: Twilio does not document it)."""


class InvalidPageToken(TwilioError):
    """400/21481 "Invalid PageToken" (Twilio's generic paging error,
    https://www.twilio.com/docs/api/errors/21481)."""

    code = 21481

    def __init__(self) -> None:
        super().__init__("Invalid PageToken")


class NotFound(TwilioError):
    """404/20404. The message names the version-relative request path, which only the
    HTTP layer knows, so it is filled in there (`The requested resource /Flows/FW71 was not found`,
    https://www.twilio.com/docs/api/errors/20404)."""

    status = 404
    code = 20404

    def __init__(self, message: str = "") -> None:
        super().__init__(message)


class Unauthorized(TwilioError):
    """401/20003 (https://www.twilio.com/docs/api/errors/20003)."""

    status = 401
    code = 20003

    def __init__(self, message: str = "Authenticate") -> None:
        super().__init__(message)


class Conflict(TwilioError):
    """409/20409."""

    status = 409
    code = 20409


class ExecutionAlreadyActive(Conflict):
    """The documented one-active-execution-per-contact 409
    (https://www.twilio.com/docs/studio/rest-api/v2/execution): note the message has no trailing period."""

    def __init__(self, conflicting_execution_sid: str) -> None:
        super().__init__(
            f"Execution {conflicting_execution_sid} is already active for this contact. "
            "End the active Execution before creating a new one",
            details={"conflicting_execution_sid": conflicting_execution_sid},
        )


class ExecutionAlreadyEnded(Conflict):
    """Ending an ended Execution "will fail with a 409 Conflict"
    (https://www.twilio.com/docs/studio/rest-api/v2/execution); the wording is ours."""

    def __init__(self, execution_sid: str) -> None:
        super().__init__(f"Execution {execution_sid} has already ended")


class FlowNotPublished(Conflict):
    """A flow with only draft revisions cannot be executed through the REST API: Studio
    runs the latest *published* revision (test users try drafts from the editor, not the
    API). 409/20409 and the wording are chosen: Twilio does not document its answer."""

    def __init__(self, flow_sid: str) -> None:
        super().__init__(
            f"Flow {flow_sid} has no published revision to execute. "
            "Publish it (Status=published) before creating an Execution"
        )


class NotWaiting(Conflict):
    """409 for a control-plane event sent to an execution that is not parked on a widget
    taking that event (mockstudio's own; the code is Twilio's 409 one)."""

    def __init__(self, execution_sid: str, event: str) -> None:
        super().__init__(f"Execution {execution_sid} is not waiting for {event!r}")
        self.execution_sid = execution_sid
        self.event = event


class FlowValidationFailed(TwilioError):
    """400/81022 "Flow definition validation failed" for Create/Update Flow and Validate.
    The message is the docs' description of 81022; `details.errors[]` lists each problem as
    `{"message", "property_path"}` (the shape of Studio's validator; Twilio does not document the exact
    `details` layout, https://www.twilio.com/docs/api/errors/81022)."""

    code = 81022

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(
            "The Flow Definition is invalid. Check the error response details for an array of validation failures.",
            details={"errors": errors},
        )
        self.errors = errors


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


class InternalServerError(TwilioError):
    """500/20500 with the message of Twilio's 20500 ("An internal server error has
    occurred", https://www.twilio.com/docs/errors/20500): a failure of the server itself,
    never of the request."""

    status = 500
    code = 20500

    def __init__(self) -> None:
        super().__init__("An internal server error has occurred")


class StateFileWriteFailed(InternalServerError):
    """A commit to the state file failed. The operation was undone (the state was rebuilt
    from the file); its client gets Twilio's 500."""
