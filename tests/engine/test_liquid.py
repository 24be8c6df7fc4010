"""StudioLiquid: Studio-like rendering on python-liquid (studio-flows.md §4.3, §8)."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest

from mockstudio.clock import ManualClock
from mockstudio.engine.definition import parse_definition
from mockstudio.engine.liquid import StudioLiquid, to_text
from mockstudio.engine.widgets import WidgetRun

from .support import START, Harness, rest_flow, say

CONTEXT: dict[str, Any] = {
    "flow": {
        "data": {"name": "zeke", "n": 3, "items": [{"q": "a"}, {"q": "b"}], "flag": True, "nothing": None},
        "variables": {"count": 2},
        "channel": {"address": "+15017122661"},
    },
    "contact": {"channel": {"address": "+15558675310"}},
    "widgets": {"get-datetime-parts": {"parsed": {"readable": "Tuesday"}}, "http_1": {"parsed": {"y": "Y"}}},
    "trigger": {},
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)  # 2023-11-14T22:13:20Z, 14:13:20 in Los Angeles


@pytest.fixture
def liquid(clock: ManualClock) -> StudioLiquid:
    return StudioLiquid(clock.now)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{flow.data.name}}", "zeke"),
        ("{{ flow.data.name | upcase }}", "ZEKE"),
        ("{{ flow.data.missing | default: 'none' }}", "none"),
        ("{{widgets.http_1.parsed.y}} {{flow.data.items[1].q}}", "Y b"),
        ("{{widgets.get-datetime-parts.parsed.readable}}", "Tuesday"),  # hyphenated names
        ("{{ widgets['http_1'].parsed.y }}", "Y"),
        ("{{ flow.variables.count | plus: 1 }}", "3"),
        ("{{ '3' | plus: 0 }}", "3"),
        ("{% for i in (1..flow.data.n) %}{{ i }}{% endfor %}", "123"),
        ("{% for i in flow.data.items %}{{ i.q }}{% endfor %}", "ab"),
        ("{{ contact.channel.address | replace: '+', '%2B' }}", "%2B15558675310"),
        ("{{ contact.channel.address | url_encode }}", "%2B15558675310"),
        ("{{ '  yes ' | strip | downcase }}", "yes"),
        ("{{ contact.channel.address | remove: '+1' }}", "5558675310"),
        ("{{ flow.data.items | size }}", "2"),
        ("{% assign x = flow.data.n | minus: 1 %}{% if x > 1 %}big{% else %}small{% endif %}", "big"),
        ("{{ true }}|{{ nil }}|{{ flow.data.flag }}|{{ flow.data.nothing }}", "true||true|"),
    ],
)
def test_studio_templates(liquid: StudioLiquid, template: str, expected: str) -> None:
    assert liquid.render_text(template, CONTEXT) == expected


@pytest.mark.parametrize(
    "template",
    [
        "{{ widgets.nope.inbound.Body }}",
        "{{ trigger.message.Body }}",
        "{{ nope }}",
        "{{ nope | upcase }}",
        "{{ nope | date: '%Y' }}",
        "{{ flow.data.nothing | date: '%Y' }}",
        "{{ flow.data.items[7].q }}",
    ],
)
def test_undefined_renders_empty(liquid: StudioLiquid, template: str) -> None:
    assert liquid.render_text("[" + template + "]", CONTEXT) == "[]"


def test_objects_and_arrays_render_as_json(liquid: StudioLiquid) -> None:
    assert liquid.render_text("{{ flow.data.items }}", CONTEXT) == '[{"q":"a"},{"q":"b"}]'
    assert liquid.render_text("{{ widgets.http_1 }}", CONTEXT) == '{"parsed":{"y":"Y"}}'
    assert liquid.render_text("{{ flow.data.items[0] }}", CONTEXT) == '{"q":"a"}'


@pytest.mark.parametrize("name", ["json", "to_json"])
def test_json_filters(liquid: StudioLiquid, name: str) -> None:
    assert liquid.render_text("{{ widgets.http_1.parsed | " + name + " }}", CONTEXT) == '{"y": "Y"}'
    assert liquid.render_text("{{ flow.data.items | " + name + " }}", CONTEXT) == '[{"q": "a"}, {"q": "b"}]'
    assert liquid.render_text("{{ flow.data.name | " + name + " }}", CONTEXT) == '"zeke"'
    assert liquid.render_text("{{ flow.data.n | " + name + " }}", CONTEXT) == "3"


# Shopify's Liquid on nil (a missing path is nil there): `json` writes null, the string
# filters treat it as "", the numeric ones as 0 (https://shopify.github.io/liquid/).
@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('{"memory": {{widgets.bot.memory | to_json}}}', '{"memory": null}'),
        ('{"memory": {{widgets.bot.memory | json}}}', '{"memory": null}'),
        ("{{ flow.data.nothing | json }}", "null"),
        ("[{{ widgets.bot.memory | upcase }}]", "[]"),
        ("{{ widgets.bot.memory | default: 'none' }}", "none"),
        ("{{ widgets.bot.memory | size }}", "0"),
        ("{{ widgets.bot.memory | plus: 2 }}", "2"),
        ("{{ widgets.bot.memory | append: '!' }}", "!"),
        ("[{{ widgets.bot.memory | first }}]", "[]"),
        ("[{{ widgets.bot.memory | date: '%Y' }}]", "[]"),
    ],
)
def test_filters_on_a_missing_value_behave_as_shopify_liquid(
    clock: ManualClock, fast: bool, template: str, expected: str
) -> None:
    liquid = StudioLiquid(clock.now, fast=fast)
    assert liquid.render_text(template, CONTEXT) == expected


def test_date_now_is_the_injected_clock_in_los_angeles(liquid: StudioLiquid, clock: ManualClock) -> None:
    assert liquid.render_text("{{ 'now' | date: '%Y-%m-%d %H:%M:%S %Z' }}", {}) == "2023-11-14 14:13:20 PST"
    assert liquid.render_text("{{ 'today' | date: '%A' }}", {}) == "Tuesday"
    clock.advance(10 * 3600)  # 08:13:20Z on the 15th: still the 15th in LA, 00:13
    assert liquid.render_text("{{ 'now' | date: '%Y-%m-%d %H:%M' }}", {}) == "2023-11-15 00:13"
    clock.set(1_720_000_000)  # 2024-07-03T09:46:40Z: daylight saving time
    assert liquid.render_text("{{ 'now' | date: '%H:%M %Z' }}", {}) == "02:46 PDT"


def test_date_of_values(liquid: StudioLiquid) -> None:
    assert liquid.render_text("{{ '2024-01-02' | date: '%d/%m/%Y' }}", {}) == "02/01/2024"
    # A time with an offset is shown in Studio's time zone.
    assert liquid.render_text("{{ '2024-01-02T03:04:05Z' | date: '%Y-%m-%d %H:%M' }}", {}) == "2024-01-01 19:04"
    assert liquid.render_text("{{ 1700000000 | date: '%H:%M' }}", {}) == "14:13"  # epoch seconds
    assert liquid.render_text("{{ 'garbage' | date: '%Y' }}", {}) == "garbage"


def test_loops_are_limited_to_15_iterations(liquid: StudioLiquid) -> None:
    fifteen = "{% for i in (1..15) %}{{ i }},{% endfor %}"
    assert liquid.render_text(fifteen, {}) == ",".join(str(i) for i in range(1, 16)) + ","
    # Over the limit the template fails and renders empty.
    assert liquid.render_text("before {% for i in (1..16) %}{{ i }}{% endfor %}", {}) == ""


@pytest.mark.parametrize(
    "template",
    [
        "{{flow.variables.reservation_id",  # example #11's authoring bug
        "{% if x %}no end",
        "Hello {{ }}",
        "{% nosuchtag %}",
    ],
)
def test_unparseable_template_renders_literally(liquid: StudioLiquid, template: str) -> None:
    assert liquid.render_text(template, CONTEXT) == template


def test_unknown_filters_are_ignored(liquid: StudioLiquid) -> None:
    assert liquid.render_text("a {{ flow.data.name | nosuchfilter }} b", CONTEXT) == "a zeke b"
    assert liquid.render_text("{{ flow.data.name | nosuchfilter | upcase }}", CONTEXT) == "ZEKE"


def test_plain_text_is_not_parsed(liquid: StudioLiquid) -> None:
    assert liquid.render_text("no braces here", CONTEXT) == "no braces here"
    assert "no braces here" not in liquid._templates


def test_templates_are_parsed_once(liquid: StudioLiquid, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = liquid.from_string

    def counting(source: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(source)
        return original(source, *args, **kwargs)

    monkeypatch.setattr(liquid, "from_string", counting)
    template = "Hi {{ flow.data.name }}"
    first = liquid.template(template)
    for _ in range(5):
        assert liquid.render_text(template, CONTEXT) == "Hi zeke"
    assert liquid.template(template) is first
    assert calls == [template]
    # An unparseable template is remembered too.
    broken = "{{ oops"
    liquid.render_text(broken, CONTEXT)
    liquid.render_text(broken, CONTEXT)
    assert calls == [template, broken]


def test_render_value_renders_nested_strings(liquid: StudioLiquid) -> None:
    value = {"a": "{{flow.data.name}}", "b": ["{{flow.data.n}}", 4, None], "c": {"d": "x{{nope}}"}}
    assert liquid.render_value(value, CONTEXT) == {"a": "zeke", "b": ["3", 4, None], "c": {"d": "x"}}


def test_render_pairs(liquid: StudioLiquid) -> None:
    pairs = [{"key": "a", "value": "{{flow.data.name}}"}, {"key": "b", "value": 5}, {"value": "no key"}, "junk"]
    assert liquid.render_pairs(pairs, CONTEXT) == [("a", "zeke"), ("b", "5")]


@pytest.mark.parametrize(
    ("value", "text"),
    [("s", "s"), (True, "true"), (False, "false"), (None, ""), (3, "3"), (1.5, "1.5"), ({"a": [1]}, '{"a":[1]}')],
)
def test_to_text(value: Any, text: str) -> None:
    assert to_text(value) == text


async def test_engine_renders_with_its_clock() -> None:
    h = Harness(rest_flow("m", say("m", "{{ 'now' | date: '%Y-%m-%d' }} {{ flow.data | json }}")))
    h.clock.set(START + 86400)
    execution = await h.start({"k": 1})
    assert h.messages(execution) == [("outbound", '2023-11-15 {"k": 1}')]


async def test_a_finished_studio_is_freed_though_python_liquid_caches_its_environment() -> None:
    # python-liquid's parser cache (128 environments) outlives the engine: it must not keep
    # the Studio and its executions alive (the engine benchmark slowed down round by round).
    h = Harness(rest_flow("m", say("m", "{{ 'now' | date: '%Y' }} {{ flow.data.k }}")))
    assert h.messages(await h.start({"k": 1})) == [("outbound", "2023 1")]
    studio = weakref.ref(h.studio)
    del h
    gc.collect()
    assert studio() is None


async def test_a_state_compiled_for_one_engine_is_compiled_again_for_another() -> None:
    # Widgets keep their compiled properties with the State, bound to the engine's Liquid
    # environment (whose `date` reads that engine's clock): another engine must not use them.
    first, second = Harness(rest_flow(None)), Harness(rest_flow(None))
    second.clock.set(START + 400 * 86400)
    definition, _ = parse_definition(rest_flow("m", say("m", "{{ 'now' | date: '%Y' }}")))
    assert definition is not None
    state = definition.states["m"]
    years = []
    for h in (first, second, first):
        execution = await h.start()  # ended at once: renders with an empty context
        years.append(WidgetRun(h.engine, h.account, execution, state).prop("body"))
    assert years == ["2023", "2024", "2023"]


@pytest.mark.parametrize(
    "source",
    [
        "Hi {{flow.data.name}}!",
        "{{flow.data}}",
        "{{ flow.data.items }}",
        "{{flow.data.items.size}}",
        "{{flow.data.items.first}}",
        "{{flow.data.name.size}}",
        "a{{flow.data.n.x}}b{{flow.data.name}}",
        "{{flow.data.b}}|{{flow.data.f}}|{{flow.data.nested}}",
        "{{ flow.nope.deeper.x }} and {{ contact.channel.address }}",
        "{{widgets.get-x.parsed.a}}",
        "{{ unknown_root.x }}",
        "{{flow.data.name | upcase}} {{flow.data.name}}",
        "{{- flow.data.name -}} x",
        "{{flow.data.name | default: 'there'}}",
        "{{flow.data.missing | default: 'there'}}",
        "{{flow.data.n | default: 'none'}} {{flow.data.zero | default: 5}} {{flow.data.f | default: 1}}",
        "{{flow.data.b | default: 'x'}} {{flow.data.false | default: 'x'}} {{flow.data.empty | default: 'x'}}",
        "{{flow.variables.attempt | plus: 1}} {{flow.variables.attempt | minus: 2.5}}",
        "{{flow.data.count_text | plus: 1}} {{flow.data.missing | plus: 1}} {{flow.data.name | plus: 1}}",
        "{{flow.data.name | upcase | append: '!'}} {{flow.data.name | downcase | prepend: \"x\"}}",
        "{{flow.data.name | replace: 'e', 'E'}} {{flow.data.name | remove: 'k'}} {{flow.data.name | size}}",
        "{{flow.data.items | join: ', '}} {{flow.data.items | size}} {{flow.data.items | first}}",
        "{{flow.data.nested | json}} {{flow.data.nested | to_json}}",
        "{{flow.data.name | default: flow.data.missing}} {{flow.data.missing | default: flow.data.name}}",
        "{{flow.data.name | nosuchfilter}} {{flow.data.name | truncate: 2}}",
        "{{flow.data.f | round}} {{flow.data.f | times: 2}} {{flow.variables.attempt | divided_by: 0}}",
        "{{flow.data.items.size | plus: 1}} {{flow.data.n.x | default: 'deep'}}",
        "{{flow.data.name | date: '%Y'}} {{flow.data.name | split: 'e' | join: '-'}}",
        "{{ flow.data.name | append: 'a|b' }}",
        "{{flow.data.name | default: true}} {{flow.data.missing | default: nil}}",
    ],
)
def test_fast_substitution_renders_exactly_as_python_liquid(source: str) -> None:
    context = {
        "flow": {
            "data": {
                "name": "Zeke",
                "items": [1, 2],
                "n": None,
                "b": True,
                "f": 1.5,
                "nested": {"k": [1]},
                "zero": 0,
                "false": False,
                "empty": "",
                "count_text": "41",
            },
            "variables": {"attempt": 1},
        },
        "contact": {"channel": {"address": "+15551234567"}},
        "trigger": {},
        "widgets": {"get-x": {"parsed": {"a": 1}}},
    }
    fast = StudioLiquid(lambda: 0.0)
    slow = StudioLiquid(lambda: 0.0, fast=False)
    assert fast.render_text(source, context) == slow.render_text(source, context)
