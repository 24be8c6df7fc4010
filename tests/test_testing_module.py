"""mockstudio.testing without pytest's fixtures: the handle as unittest users hold it (a
context manager entered once per class, reset per test), in-process handles, and
InProcessHttpClient over a bare app."""

from __future__ import annotations

import json
import socket
import sys
import unittest
import unittest.mock
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from twilio.base.exceptions import TwilioRestException

from mockstudio.app_factory import build_app
from mockstudio.settings import Settings
from mockstudio.testing import (
    IN_PROCESS_URL,
    InProcessHttpClient,
    MockStudioError,
    MockStudioServer,
    in_process_client,
)

DEMO_FLOW = "FW00000000000000000000000000000001"
FLOW_NUMBER = "+15005550006"
CONTACT = "+15551230001"
START = 1_700_000_000
GREETING = "Hi Zeke! Would you like a callback? Reply YES or NO."

# Answers an inbound message with the message's body, upper-cased.
ECHO_FLOW: dict[str, Any] = {
    "description": "echo",
    "initial_state": "Trigger",
    "states": [
        {
            "name": "Trigger",
            "type": "trigger",
            "transitions": [
                {"event": "incomingMessage", "next": "echo"},
                {"event": "incomingCall"},
                {"event": "incomingConversationMessage"},
                {"event": "incomingRequest", "next": "echo"},
                {"event": "incomingParent"},
            ],
            "properties": {"offset": {"x": 0, "y": 0}},
        },
        {
            "name": "echo",
            "type": "send-message",
            "transitions": [{"event": "sent"}, {"event": "failed"}],
            "properties": {
                "offset": {"x": 0, "y": 200},
                "from": "{{flow.channel.address}}",
                "to": "{{contact.channel.address}}",
                "body": "{{trigger.message.Body | upcase}}",
            },
        },
    ],
}


class LiveServerTest(unittest.TestCase):
    """The unittest pattern: one live server for the class, fresh state per test."""

    mock: ClassVar[MockStudioServer]

    @classmethod
    def setUpClass(cls) -> None:
        cls.mock = cls.enterClassContext(MockStudioServer())

    def setUp(self) -> None:
        self.mock.reset()

    def _greet(self, contact: str = CONTACT) -> str:
        executions = self.mock.client().studio.v2.flows(DEMO_FLOW).executions
        sid: str = executions.create(to=contact, from_=FLOW_NUMBER, parameters={"name": "Zeke"}).sid
        return sid

    def test_reply_and_messages(self) -> None:
        sid = self._greet()
        state = self.mock.wait_until_settled(sid)
        self.assertEqual((state["status"], state["waiting_on"]), ("active", "greet"))
        self.assertIn("incomingMessage", state["waiting_for"])

        result = self.mock.send_message(from_=CONTACT, to=FLOW_NUMBER, body="yes")
        self.assertEqual((result["action"], result["execution_sid"], result["status"]), ("resumed", sid, "ended"))
        self.assertEqual(self.mock.wait_for_execution(sid, status="ended")["status"], "ended")

        messages = self.mock.messages(execution_sid=sid)
        self.assertEqual(
            [(m["direction"], m["from"], m["to"], m["body"]) for m in messages],
            [
                ("outbound", FLOW_NUMBER, CONTACT, GREETING),
                ("inbound", CONTACT, FLOW_NUMBER, "yes"),
                ("outbound", FLOW_NUMBER, CONTACT, "Thanks Zeke, we will call you back."),
            ],
        )
        self.assertEqual([m["body"] for m in self.mock.messages(direction="inbound")], ["yes"])
        self.assertEqual(len(self.mock.messages(contact=CONTACT, from_=FLOW_NUMBER)), 2)
        self.assertEqual(self.mock.messages(contact="+19999999999"), [])
        self.mock.clear_messages()
        self.assertEqual(self.mock.messages(), [])

    def test_reset_forgets_everything_and_rewinds_the_clock(self) -> None:
        sid = self._greet()
        flow_sid = self.mock.add_flow(ECHO_FLOW, "Echo", numbers=["+15550000001"])
        self.mock.script("greet", {"event": "timeout"})
        self.mock.advance_clock(60)
        self.mock.reset()
        client = self.mock.client()
        self.assertEqual(client.studio.v2.flows(DEMO_FLOW).executions.list(), [])
        with self.assertRaises(TwilioRestException) as raised:
            client.studio.v2.flows(flow_sid).fetch()
        self.assertEqual(raised.exception.status, 404)
        self.assertEqual((self.mock.messages(), self.mock.scripts()), ([], []))
        self.assertEqual(self.mock.clock.now(), START)
        with self.assertRaises(MockStudioError) as error:
            self.mock.wait_until_settled(sid)
        self.assertEqual((error.exception.status, error.exception.code), (404, 20404))
        self._greet()  # the contact is free again: no 409

    def test_timeout_fires_when_the_clock_moves(self) -> None:
        sid = self._greet()
        self.mock.wait_until_settled(sid)
        self.assertEqual(self.mock.advance_clock(3599)["fired"], 0)
        moved = self.mock.advance_clock(1)  # the greeting waits an hour
        self.assertEqual((moved["fired"], moved["epoch"]), (1, START + 3600))
        self.assertEqual(self.mock.wait_until_settled(sid)["status"], "ended")
        steps = self.mock.client().studio.v2.flows(DEMO_FLOW).executions(sid).steps.list()
        self.assertEqual(steps[0].name, "timeout")

    def test_set_clock(self) -> None:
        self.mock.set_clock(datetime(2024, 2, 29, 12, 0, tzinfo=UTC))
        flow = self.mock.client().studio.v2.flows(DEMO_FLOW)
        execution = flow.executions.create(to=CONTACT, from_=FLOW_NUMBER)
        self.assertEqual(execution.date_created, datetime(2024, 2, 29, 12, 0, tzinfo=UTC))
        self.assertEqual(self.mock.set_clock("2024-03-01T00:00:00Z")["now"], "2024-03-01T00:00:00Z")
        self.assertEqual(self.mock.set_clock(START)["epoch"], START)

    def test_wait_for_a_status_times_out(self) -> None:
        sid = self._greet()
        with self.assertRaises(TimeoutError) as raised:
            self.mock.wait_for_execution(sid, status="ended", timeout=0.1)
        self.assertIn("waiting on greet", str(raised.exception))

    def test_add_flow_numbers_and_inbound_messages(self) -> None:
        sid = self.mock.add_flow(ECHO_FLOW, "Echo", sid="FW" + "5" * 32, numbers=["+15550000001"])
        self.assertEqual(sid, "FW" + "5" * 32)
        started = self.mock.send_message(from_=CONTACT, to="+15550000001", body="hello")
        self.assertEqual((started["action"], started["flow_sid"], started["status"]), ("started", sid, "ended"))
        self.assertEqual(self.mock.messages(direction="outbound")[-1]["body"], "HELLO")

        generated = self.mock.add_flow(json_text(ECHO_FLOW), "Echo 2")
        self.assertTrue(generated.startswith("FW") and generated != sid)
        self.mock.bind_number("+15550000002", generated)
        self.assertEqual(self.mock.send_message(CONTACT, "+15550000002", "again")["flow_sid"], generated)
        fetched = self.mock.client().studio.v2.flows(generated).fetch()
        self.assertEqual((fetched.friendly_name, fetched.status), ("Echo 2", "published"))

        with self.assertRaises(MockStudioError) as error:
            self.mock.add_flow(ECHO_FLOW, sid=sid)
        self.assertEqual(error.exception.status, 409)
        with self.assertRaises(MockStudioError) as error:
            self.mock.add_flow({"states": [], "initial_state": "Nowhere"})
        self.assertEqual((error.exception.status, error.exception.code), (400, 81022))
        with self.assertRaises(MockStudioError) as error:
            self.mock.bind_number("+15550000003", "FW" + "9" * 32)
        self.assertEqual(error.exception.status, 404)

    def test_scripted_outcome(self) -> None:
        sid = self._greet()
        self.mock.script("confirm", {"event": "failed"}, flow_sid=DEMO_FLOW)
        self.mock.send_message(from_=CONTACT, to=FLOW_NUMBER, body="yes")
        steps = self.mock.client().studio.v2.flows(DEMO_FLOW).executions(sid).steps.list()
        self.assertEqual((steps[0].name, steps[0].transitioned_from), ("failed", "confirm"))
        self.assertEqual([(s["widget"], s["used"]) for s in self.mock.scripts()], [("confirm", 1)])
        with self.assertRaises(MockStudioError) as error:
            self.mock.script("confirm", [{"event": "no-such-event"}])
        self.assertEqual(error.exception.status, 400)
        self.mock.clear_scripts()
        self.assertEqual(self.mock.scripts(), [])

    def test_resume_execution_and_calls(self) -> None:
        sid = self._greet()
        state = self.mock.resume_execution(sid, "incomingMessage", {"inbound": {"Body": "no"}})
        self.assertEqual(state["status"], "ended")
        with self.assertRaises(MockStudioError) as error:
            self.mock.place_call(from_=CONTACT, to=FLOW_NUMBER)  # no flow is bound to the number yet
        self.assertEqual(error.exception.status, 404)
        self.mock.bind_number(FLOW_NUMBER, DEMO_FLOW)
        call = self.mock.place_call(from_="+15557654321", to=FLOW_NUMBER)
        self.assertEqual((call["action"], call["status"]), ("started", "ended"))

    def test_httpx_client(self) -> None:
        for in_process in (False, True):
            with self.mock.httpx_client(in_process=in_process) as http:
                response = http.get(f"/v2/Flows/{DEMO_FLOW}")
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.json()["url"], f"{self.mock.base_url}/v2/Flows/{DEMO_FLOW}")
        with self.mock.httpx_client(auth=False) as anonymous:
            self.assertEqual(anonymous.get(f"/v2/Flows/{DEMO_FLOW}").status_code, 401)


def json_text(definition: dict[str, Any]) -> str:
    return json.dumps(definition)


class InProcessTest(unittest.TestCase):
    """An in-process handle serves no socket at all."""

    def test_no_sockets(self) -> None:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("an in-process handle opened a connection")

        with (
            MockStudioServer(in_process=True) as mock,
            unittest.mock.patch.object(socket.socket, "connect", refuse),
            unittest.mock.patch.object(socket, "create_connection", refuse),
        ):
            self.assertEqual((mock.base_url, mock.port), (IN_PROCESS_URL, 0))
            client = mock.client()
            self.assertIsInstance(client.http_client, InProcessHttpClient)
            executions = client.studio.v2.flows(DEMO_FLOW).executions
            created = [executions.create(to=f"+1555000{n:04d}", from_=FLOW_NUMBER).sid for n in range(5)]
            self.assertEqual([e.sid for e in executions.list(page_size=2)], created[::-1])
            self.assertEqual(mock.wait_until_settled(created[0])["waiting_on"], "greet")
            self.assertEqual(len(mock.messages(direction="outbound")), 5)
            with self.assertRaises(ValueError):
                mock.client(in_process=False)

    def test_in_process_client(self) -> None:
        client, mock = in_process_client(Settings(accept_any_flow=True))
        with mock:
            execution = client.studio.v2.flows("FW" + "7" * 32).executions.create(to=CONTACT, from_=FLOW_NUMBER)
            self.assertEqual(mock.wait_until_settled(execution.sid)["status"], "ended")  # an inert flow
            self.assertTrue(execution.url.startswith(IN_PROCESS_URL + "/v2/"))
        with self.assertRaises(RuntimeError):
            mock.start()  # a stopped handle stays stopped
        with self.assertRaises(RuntimeError):
            mock.messages()


def test_in_process_http_client_over_a_bare_app() -> None:
    """InProcessHttpClient(app) for an app no handle runs: it starts the app's lifespan on
    its own loop, so flows still run in the background; close() stops it."""
    from twilio.rest import Client

    app = build_app(Settings())
    http_client = InProcessHttpClient(app)
    try:
        client = Client(Settings().account_sid, Settings().auth_token, http_client=http_client)
        flow = client.studio.v2.flows(DEMO_FLOW)  # base_url left at studio.twilio.com: any host will do
        execution = flow.executions.create(to=CONTACT, from_=FLOW_NUMBER, parameters={"name": "Zeke"})
        assert execution.url.startswith("https://studio.twilio.com/v2/")
        # The flow runs in the background: wait (server side) until it has settled.
        settled = http_client.request(
            "GET",
            f"https://studio.twilio.com/_mockstudio/executions/{execution.sid}/settled",
            params={"timeout": 10},
            auth=(Settings().account_sid, Settings().auth_token),
        )
        assert json.loads(settled.text)["waiting_on"] == "greet"
        steps = flow.executions(execution.sid).steps.list()
        assert [s.name for s in steps] == ["incomingRequest"]
    finally:
        http_client.close()


def test_in_process_client_of_a_running_handle_shares_its_loop() -> None:
    with MockStudioServer(in_process=True) as mock:
        by_app = InProcessHttpClient(mock.app)  # the handle's own loop, not a second lifespan
        by_handle = InProcessHttpClient(mock)
        assert by_app._bridge is by_handle._bridge
        by_app.close()  # closes nothing it does not own
        assert mock.client().studio.v2.flows(DEMO_FLOW).fetch().sid == DEMO_FLOW


def test_start_is_idempotent_and_stop_is_safe() -> None:
    mock = MockStudioServer()
    assert mock.start() is mock.start()
    mock.stop()
    mock.stop()
    never_started = MockStudioServer()
    never_started.reset()  # works on the state alone
    never_started.stop()


def test_client_without_twilio(monkeypatch: pytest.MonkeyPatch) -> None:
    """twilio is optional: only client() needs it, and says so."""
    with MockStudioServer(in_process=True) as mock:
        monkeypatch.setitem(sys.modules, "twilio.rest", None)
        with pytest.raises(ImportError, match=r"needs the twilio package \(pip install twilio\)"):
            mock.client()
        assert mock.messages() == []  # the rest works without it
