"""`Call`: the handle `MockStudioServer.place_call` returns, to play the caller of an
inbound call in a test, through the control plane's `/_mockstudio/calls/{CallSid}`:

    call = mock.place_call(from_=CALLER, to=IVR_NUMBER)
    assert call.heard() == ["Press 1 for sales, 2 for support."]
    call.press("1")
    assert call.last_heard() == ["Connecting you to sales."]
    assert call.status == "completed"
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = ["Call", "heard_text"]

Request = Callable[..., Any]  # MockStudioServer._call: (method, path, *, data=...) -> JSON


def heard_text(line: Mapping[str, Any]) -> str | None:
    """A transcript line as the caller hears it, if it is something heard: spoken text
    (say, a gather's prompt) or the URL of played audio (play, a gather's `play`)."""
    kind = line.get("kind")
    if kind == "say":
        return str(line["text"])
    if kind == "play":
        return str(line["url"])
    if kind == "gather":
        prompt = line.get("prompt") or line.get("url")
        return str(prompt) if prompt else None
    return None


class Call(Mapping[str, Any]):
    """An inbound call. Its actions (`press`, `say`, `hang_up`) return once the flow has
    settled (ended, or waiting again), as `send_message` does; its reads (`transcript`,
    `status`, `heard()`) ask the server each time.

    As a mapping it is still what placing the call answered (`call["call_sid"]`,
    `call["action"]`, `call["status"]`: the execution's status then)."""

    def __init__(self, request: Request, placed: Mapping[str, Any]) -> None:
        self._request = request
        self._placed = dict(placed)
        self.sid: str = self._placed["call_sid"]
        self.execution_sid: str = self._placed["execution_sid"]
        self.flow_sid: str = self._placed["flow_sid"]

    # -- as a mapping: the answer to placing the call -----------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self._placed[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._placed)

    def __len__(self) -> int:
        return len(self._placed)

    def __repr__(self) -> str:
        return f"<Call {self.sid}>"

    # -- reads ---------------------------------------------------------------------------

    def fetch(self) -> dict[str, Any]:
        """`GET /_mockstudio/calls/{sid}`: `status`, `waiting_on`, `waiting_for`,
        `transcript`, ..."""
        state: dict[str, Any] = self._request("GET", f"/_mockstudio/calls/{self.sid}")
        return state

    @property
    def transcript(self) -> list[dict[str, Any]]:
        """Every line, as the server gives them: `{"kind": "say", "text": ..., "widget": ...,
        "date": ...}`, `{"kind": "press", "digits": "1", ...}`, `{"kind": "hangup", "by":
        "flow"}`, ..."""
        lines: list[dict[str, Any]] = self.fetch()["transcript"]
        return lines

    @property
    def status(self) -> str:
        """`in-progress` or `completed`."""
        return str(self.fetch()["status"])

    @property
    def waiting_for(self) -> list[str]:
        """What the caller can do now: `keypress`, `speech`, or nothing (empty)."""
        return list(self.fetch()["waiting_for"])

    def heard(self) -> list[str]:
        """Everything the caller heard since the call began, as text: what was said, the
        gathers' prompts, the URLs of audio played."""
        return [text for line in self.transcript if (text := heard_text(line)) is not None]

    def last_heard(self) -> list[str]:
        """What the caller heard since they last pressed keys or spoke (since the call
        began if they have not)."""
        lines = self.transcript
        start = max((i + 1 for i, line in enumerate(lines) if line["kind"] in ("press", "speech")), default=0)
        return [text for line in lines[start:] if (text := heard_text(line)) is not None]

    # -- actions -------------------------------------------------------------------------

    def press(self, digits: str) -> Call:
        """Press keys (`0-9`, `*`, `#`): the gather waiting on the call takes `keypress`."""
        self._request("POST", f"/_mockstudio/calls/{self.sid}/digits", data={"Digits": digits})
        return self

    def say(self, speech: str) -> Call:
        """Say something: the gather waiting on the call takes `speech`."""
        self._request("POST", f"/_mockstudio/calls/{self.sid}/speech", data={"SpeechResult": speech})
        return self

    def hang_up(self) -> Call:
        """Hang up: the flow's execution ends (a widget with a `hangup` event takes it)."""
        self._request("POST", f"/_mockstudio/calls/{self.sid}/hangup")
        return self
