"""Flow coverage: which widgets were entered and which transitions were taken, per flow,
counted over every execution (coverage.py, for Studio flows).

A `CoverageRecorder` subscribes to the studio's change feed (only when coverage is on) and
counts one thing per step: the transition it took, as (account, flow, widget, event, next).
Everything else is derived when a report is made, against the flow's latest definition:

- a widget is *entered* when a step transitions to it, and the trigger when an execution
  of the flow starts;
- a *transition* is an entry of a widget's `transitions` list: (widget, event, next). One
  with no `next` counts too (the flow ends there: a `timeout`, a `noMatch` is a path a test
  should take), except the trigger's events with no `next` (the ways the flow is not
  started). Split widgets may list several `match` transitions; each is its own.
- widgets and transitions no longer in the definition are not counted.

The recorder keeps two records: since the last reset (what `GET /_mockstudio/coverage`
reports; a reset folds it into the other), and the whole run's (what the pytest plugin
reports: per-test resets clear executions, not coverage).

This module knows nothing of HTTP; `coverage_html` renders the static report.
"""

from __future__ import annotations

import html
import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .domain.changes import (
    Change,
    ExecutionCreated,
    FlowCreated,
    FlowDeleted,
    FlowUpdated,
    Reset,
    StepEnded,
    Subscriber,
)

if TYPE_CHECKING:
    from .domain.accounts import Studio
    from .domain.models import Flow

__all__ = [
    "CoverageRecord",
    "CoverageRecorder",
    "CoverageReport",
    "FlowCoverage",
    "TransitionCoverage",
    "WidgetCoverage",
    "build_report",
    "coverage_html",
    "summary_lines",
]

ENDED = "Ended"  # a step's `transitioned_to` when the flow ended there (no `next`)
TRIGGER = "trigger"

FlowKey = tuple[str, str]  # (Account SID, Flow SID)
StepKey = tuple[str, str, str, str, str]  # (account, flow, widget, event, transitioned_to)


@dataclass(slots=True)
class FlowShape:
    """What a report needs of a flow: its name and its latest definition."""

    friendly_name: str
    revision: int
    definition: dict[str, Any]
    bundled: bool = False  # the demo flow shipped in the package: reported only once it ran


@dataclass(slots=True)
class CoverageRecord:
    """Raw counts: steps by (account, flow, widget, event, next), executions started by
    flow, and the shapes of the flows they belong to."""

    flows: dict[FlowKey, FlowShape] = field(default_factory=dict)
    steps: dict[StepKey, int] = field(default_factory=dict)
    starts: dict[FlowKey, int] = field(default_factory=dict)

    def merge(self, other: CoverageRecord) -> None:
        """Add `other`'s counts to this record's; its flow shapes win (they are newer)."""
        self.flows.update(other.flows)
        for key, count in other.steps.items():
            self.steps[key] = self.steps.get(key, 0) + count
        for flow, count in other.starts.items():
            self.starts[flow] = self.starts.get(flow, 0) + count

    def copy(self) -> CoverageRecord:
        return CoverageRecord(dict(self.flows), dict(self.steps), dict(self.starts))

    def to_data(self) -> dict[str, Any]:
        """JSON-ready (and execnet-ready: pytest-xdist workers send it to the controller)."""
        steps: dict[FlowKey, list[list[Any]]] = {}
        for (account, flow, widget, event, target), count in self.steps.items():
            steps.setdefault((account, flow), []).append([widget, event, target, count])
        return {
            "flows": [
                {
                    "account_sid": account,
                    "sid": sid,
                    "friendly_name": shape.friendly_name,
                    "revision": shape.revision,
                    "definition": shape.definition,
                    "bundled": shape.bundled,
                    "executions": self.starts.get((account, sid), 0),
                    "steps": steps.get((account, sid), []),
                }
                for (account, sid), shape in self.flows.items()
            ]
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> CoverageRecord:
        record = cls()
        for flow in data.get("flows", []):
            key = (str(flow["account_sid"]), str(flow["sid"]))
            record.flows[key] = FlowShape(
                str(flow["friendly_name"]), int(flow["revision"]), dict(flow["definition"]), bool(flow["bundled"])
            )
            if flow["executions"]:
                record.starts[key] = int(flow["executions"])
            for widget, event, target, count in flow["steps"]:
                step = (*key, str(widget), str(event), str(target))
                record.steps[step] = record.steps.get(step, 0) + int(count)
        return record


def _shape(flow: Flow, bundled: frozenset[str]) -> FlowShape:
    return FlowShape(flow.friendly_name, flow.revision, flow.definition, flow.sid in bundled)


class CoverageRecorder:
    """A change-feed subscriber counting steps (see the module's docstring). Attach it with
    `attach(studio)`; every method runs where the studio's changes are made (its event
    loop), so readers there see a consistent record."""

    def __init__(self, bundled_flow_sids: Iterable[str] = ()) -> None:
        self.bundled = frozenset(bundled_flow_sids)
        # Since the last reset (its step counts a defaultdict: one `+= 1` per step), and
        # what a reset folded in: before it.
        self._current = CoverageRecord(steps=defaultdict(int))
        self._earlier = CoverageRecord()
        self._handlers: dict[type[Change], Callable[[Any], None]] = {
            ExecutionCreated: self._execution_created,
            FlowCreated: self._flow_changed,
            FlowUpdated: self._flow_changed,
            FlowDeleted: self._flow_deleted,
            Reset: self._reset,
        }

    def attach(self, studio: Studio) -> Callable[[], None]:
        """Record `studio`'s flows as they are, then every change; returns what detaches."""
        for account in studio.accounts.values():
            for flow in account.flows.values():
                self._current.flows[(account.sid, flow.sid)] = _shape(flow, self.bundled)
        return studio.changes.subscribe(self._subscriber())

    def _subscriber(self) -> Subscriber:
        """The subscriber: called for every change, StepEnded by far the most often, so
        written as a closure over what it touches (a few hundred ns per step)."""
        steps = self._current.steps
        handlers = self._handlers

        # `change` is typed Any: narrowing it (isinstance, cast) would cost a call per change.
        def subscriber(change: Any) -> None:
            kind = change.__class__
            if kind is StepEnded:
                step = change.step
                key = (
                    change.account_sid,
                    change.execution.flow_sid,
                    step.transitioned_from,
                    step.name,
                    step.transitioned_to,
                )
                steps[key] += 1
                return
            handler = handlers.get(kind)
            if handler is not None:
                handler(change)

        return subscriber

    def _execution_created(self, change: ExecutionCreated) -> None:
        key = (change.account_sid, change.execution.flow_sid)
        starts = self._current.starts
        starts[key] = starts.get(key, 0) + 1

    def _flow_changed(self, change: FlowCreated | FlowUpdated) -> None:
        self._current.flows[(change.account_sid, change.flow.sid)] = _shape(change.flow, self.bundled)

    def _flow_deleted(self, change: FlowDeleted) -> None:
        # Gone from the live record; the run's record keeps what it covered.
        self._fold(lambda account, flow: account == change.account_sid and flow == change.flow.sid)

    def _reset(self, change: Reset) -> None:
        self._fold(lambda account, flow: change.account_sid is None or account == change.account_sid)

    def _fold(self, matches: Callable[[str, str], bool]) -> None:
        """Move what `matches` selects from the live record into the earlier one."""
        current, earlier = self._current, self._earlier
        moved = CoverageRecord()
        moved.flows = {key: shape for key, shape in current.flows.items() if matches(*key)}
        moved.starts = {key: count for key, count in current.starts.items() if matches(*key)}
        moved.steps = {key: count for key, count in current.steps.items() if matches(key[0], key[1])}
        earlier.merge(moved)
        for key in moved.flows:
            del current.flows[key]
        for key in moved.starts:
            del current.starts[key]
        for step in moved.steps:
            del current.steps[step]

    def since_reset(self) -> CoverageRecord:
        """A copy of the record since the last reset."""
        return self._current.copy()

    def whole_run(self) -> CoverageRecord:
        """A copy of the record since the recorder was attached, across resets."""
        total = self._earlier.copy()
        total.merge(self._current)
        return total


# -- the report -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WidgetCoverage:
    name: str
    type: str
    entered: int
    offset: tuple[float, float] | None


@dataclass(frozen=True, slots=True)
class TransitionCoverage:
    widget: str
    event: str
    next: str | None  # None: the flow ends there
    label: str  # `widget.event`, with `->next` when the widget has several of that event
    taken: int


@dataclass(frozen=True, slots=True)
class FlowCoverage:
    account_sid: str
    flow_sid: str
    friendly_name: str
    revision: int
    executions: int
    widgets: tuple[WidgetCoverage, ...]
    transitions: tuple[TransitionCoverage, ...]

    @property
    def widgets_entered(self) -> int:
        return sum(1 for w in self.widgets if w.entered)

    @property
    def transitions_taken(self) -> int:
        return sum(1 for t in self.transitions if t.taken)

    @property
    def never_taken(self) -> list[str]:
        return [t.label for t in self.transitions if not t.taken]

    @property
    def transition_percent(self) -> float:
        return _percent(self.transitions_taken, len(self.transitions))

    def to_json(self) -> dict[str, Any]:
        return {
            "account_sid": self.account_sid,
            "flow_sid": self.flow_sid,
            "friendly_name": self.friendly_name,
            "revision": self.revision,
            "executions": self.executions,
            "summary": _summary(self.widgets_entered, len(self.widgets), self.transitions_taken, len(self.transitions)),
            "widgets": [{"name": w.name, "type": w.type, "entered": w.entered} for w in self.widgets],
            "transitions": [
                {"widget": t.widget, "event": t.event, "next": t.next, "label": t.label, "taken": t.taken}
                for t in self.transitions
            ],
            "never_taken": self.never_taken,
        }


@dataclass(frozen=True, slots=True)
class CoverageReport:
    flows: tuple[FlowCoverage, ...]

    @property
    def widgets_entered(self) -> int:
        return sum(f.widgets_entered for f in self.flows)

    @property
    def widgets_total(self) -> int:
        return sum(len(f.widgets) for f in self.flows)

    @property
    def transitions_taken(self) -> int:
        return sum(f.transitions_taken for f in self.flows)

    @property
    def transitions_total(self) -> int:
        return sum(len(f.transitions) for f in self.flows)

    @property
    def transition_percent(self) -> float:
        return _percent(self.transitions_taken, self.transitions_total)

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": _summary(
                self.widgets_entered, self.widgets_total, self.transitions_taken, self.transitions_total
            ),
            "flows": [flow.to_json() for flow in self.flows],
        }


def _percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 100.0


def _summary(entered: int, widgets: int, taken: int, transitions: int) -> dict[str, Any]:
    return {
        "widgets_entered": entered,
        "widgets_total": widgets,
        "widget_percent": round(_percent(entered, widgets), 2),
        "transitions_taken": taken,
        "transitions_total": transitions,
        "transition_percent": round(_percent(taken, transitions), 2),
    }


def _offset(state: dict[str, Any]) -> tuple[float, float] | None:
    properties = state.get("properties")
    offset = properties.get("offset") if isinstance(properties, dict) else None
    if isinstance(offset, dict):
        x, y = offset.get("x"), offset.get("y")
        if isinstance(x, int | float) and isinstance(y, int | float) and math.isfinite(x) and math.isfinite(y):
            return float(x), float(y)
    return None


def flow_coverage(record: CoverageRecord, key: FlowKey) -> FlowCoverage:
    """One flow's coverage, measured against its shape's definition."""
    shape = record.flows[key]
    account, sid = key
    states = [s for s in shape.definition.get("states", []) if isinstance(s, dict) and isinstance(s.get("name"), str)]
    names = {s["name"] for s in states}
    taken: dict[tuple[str, str, str], int] = {}
    entered: dict[str, int] = {}
    for (step_account, step_flow, widget, event, target), count in record.steps.items():
        if step_account == account and step_flow == sid:
            taken[(widget, event, target)] = taken.get((widget, event, target), 0) + count
            if target in names:
                entered[target] = entered.get(target, 0) + count
    starts = record.starts.get(key, 0)
    widgets = []
    transitions: list[TransitionCoverage] = []
    for state in states:
        name, kind = state["name"], str(state.get("type", ""))
        widgets.append(WidgetCoverage(name, kind, starts if kind == TRIGGER else entered.get(name, 0), _offset(state)))
        listed = [t for t in state.get("transitions", []) if isinstance(t, dict) and isinstance(t.get("event"), str)]
        pairs: list[tuple[str, str | None]] = []
        for transition in listed:
            follows = transition.get("next") or None
            pair: tuple[str, str | None] = (transition["event"], follows if isinstance(follows, str) else None)
            if pair not in pairs and not (kind == TRIGGER and pair[1] is None):
                pairs.append(pair)
        events = [event for event, _ in pairs]
        for event, follows in pairs:
            label = f"{name}.{event}"
            if events.count(event) > 1:
                label += f"->{follows or 'end'}"
            count = taken.get((name, event, follows or ENDED), 0)
            transitions.append(TransitionCoverage(name, event, follows, label, count))
    return FlowCoverage(account, sid, shape.friendly_name, shape.revision, starts, tuple(widgets), tuple(transitions))


def build_report(record: CoverageRecord, *, unused_bundled: bool = True) -> CoverageReport:
    """Every flow of the record, by account, then friendly name. Without `unused_bundled`,
    the demo flow shipped in the package only if it ran (a test run's report: it is not the
    project's flow)."""
    keys = [
        key
        for key, shape in record.flows.items()
        if unused_bundled or not shape.bundled or record.starts.get(key) or any(s[:2] == key for s in record.steps)
    ]
    keys.sort(key=lambda k: (k[0], record.flows[k].friendly_name.casefold(), k[1]))
    return CoverageReport(tuple(flow_coverage(record, key) for key in keys))


# -- the terminal summary -------------------------------------------------------------------


def summary_lines(report: CoverageReport) -> list[str]:
    """One line per flow, then the total: `name  x/y widgets  x/y transitions (p%)  never
    taken: widget.event, ...`."""
    if not report.flows:
        return ["no flows recorded"]
    rows = [
        (
            flow.friendly_name,
            f"{flow.widgets_entered}/{len(flow.widgets)} widgets",
            f"{flow.transitions_taken}/{len(flow.transitions)} transitions",
            f"{_format_percent(flow.transition_percent)}",
            ", ".join(flow.never_taken),
        )
        for flow in report.flows
    ]
    total = (
        "TOTAL",
        f"{report.widgets_entered}/{report.widgets_total} widgets",
        f"{report.transitions_taken}/{report.transitions_total} transitions",
        _format_percent(report.transition_percent),
        "",
    )
    widths = [max(len(row[i]) for row in [*rows, total]) for i in range(4)]
    lines = []
    for row in [*rows, total]:
        line = "   ".join(
            [row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].rjust(widths[2]), row[3].rjust(widths[3])]
        )
        lines.append((line + (f"   never taken: {row[4]}" if row[4] else "")).rstrip())
    return lines


def _format_percent(value: float) -> str:
    # Floored, as coverage.py does for its total: 99.9% is not shown as 100%.
    return f"{math.floor(value)}%"


# -- the static HTML report -----------------------------------------------------------------

_BOX_W, _BOX_H = 210, 56  # a widget's box on the canvas
_LAYER_X, _LAYER_Y = 240, 150  # the layered layout's spacing when offsets are missing
_TAKEN, _NEVER = "#1a7f37", "#cf222e"


def _layout(flow: FlowCoverage) -> dict[str, tuple[float, float]]:
    """Widgets at their canvas offsets; when any is missing, a layered layout instead
    (breadth first from the first widget: layer = distance from it)."""
    if all(w.offset is not None for w in flow.widgets):
        return {w.name: w.offset for w in flow.widgets if w.offset is not None}
    names = [w.name for w in flow.widgets]
    nexts: dict[str, list[str]] = {name: [] for name in names}
    for t in flow.transitions:
        if t.next in nexts and t.next not in nexts[t.widget]:
            nexts[t.widget].append(t.next)
    layer: dict[str, int] = {}
    for root in names:  # the first widget, then any not reached from it
        if root in layer:
            continue
        layer[root] = max(layer.values(), default=-1) + 1
        queue = [root]
        while queue:
            name = queue.pop(0)
            for target in nexts[name]:
                if target not in layer:
                    layer[target] = layer[name] + 1
                    queue.append(target)
    column: dict[int, int] = {}
    positions = {}
    for name in names:
        index = column.get(layer[name], 0)
        column[layer[name]] = index + 1
        positions[name] = (float(index * _LAYER_X), float(layer[name] * _LAYER_Y))
    return positions


def _flow_svg(flow: FlowCoverage) -> str:
    esc = html.escape
    positions = _layout(flow)
    if not positions:
        return "<p>This flow has no widgets.</p>"
    xs = [x for x, _ in positions.values()]
    ys = [y for _, y in positions.values()]
    left, top = min(xs) - 40, min(ys) - 30
    width, height = max(xs) - left + _BOX_W + 160, max(ys) - top + _BOX_H + 140
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="canvas" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="{left:.0f} {top:.0f} {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{esc(flow.friendly_name)}">',
        "<defs>"
        f'<marker id="t" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{_TAKEN}"/></marker>'
        f'<marker id="n" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{_NEVER}"/></marker></defs>',
    ]
    by_widget: dict[str, list[TransitionCoverage]] = {}
    for t in flow.transitions:
        by_widget.setdefault(t.widget, []).append(t)
    for name, outgoing in by_widget.items():
        if name not in positions:
            continue
        x, y = positions[name]
        for index, t in enumerate(outgoing):
            # Ports spread along the box's bottom edge, as on Studio's canvas.
            sx = x + _BOX_W * (index + 1) / (len(outgoing) + 1)
            sy = y + _BOX_H
            if t.next is not None and t.next in positions:
                tx, ty = positions[t.next]
                ex, ey = tx + _BOX_W / 2, ty
                if ey > sy:
                    path = f"M{sx:.0f},{sy:.0f} C{sx:.0f},{sy + 50:.0f} {ex:.0f},{ey - 50:.0f} {ex:.0f},{ey:.0f}"
                else:  # back up the canvas: around the side
                    side = max(x, tx) + _BOX_W + 40
                    path = (
                        f"M{sx:.0f},{sy:.0f} C{sx:.0f},{sy + 60:.0f} {side:.0f},{sy + 60:.0f} "
                        f"{side:.0f},{(sy + ey) / 2:.0f} S{ex:.0f},{ey - 60:.0f} {ex:.0f},{ey:.0f}"
                    )
            else:  # the flow ends here: a short stub to an end mark, below the labels
                ex, ey = sx, sy + 24 + 14 * len(outgoing)
                path = f"M{sx:.0f},{sy:.0f} L{ex:.0f},{ey:.0f}"
            taken = t.taken > 0
            style = f'stroke="{_TAKEN}" stroke-width="2"' if taken else f'stroke="{_NEVER}" stroke-dasharray="6 4"'
            state = "taken" if taken else "never-taken"
            parts.append(
                f'<g class="transition {state}"><title>{esc(t.label)}: taken {t.taken} times</title>'
                f'<path d="{path}" fill="none" {style} marker-end="url(#{"t" if taken else "n"})"/>'
                f'<text x="{sx + 3:.0f}" y="{sy + 14 + 14 * index:.0f}" class="event">'
                f"{esc(t.event)} ({t.taken})</text></g>"
            )
            if t.next is None:
                parts.append(f'<circle cx="{ex:.0f}" cy="{ey + 4:.0f}" r="4" class="end"/>')
    for widget in flow.widgets:
        x, y = positions[widget.name]
        state = "entered" if widget.entered else "never-entered"
        parts.append(
            f'<g class="widget {state}"><title>{esc(widget.name)} ({esc(widget.type)}): entered '
            f"{widget.entered} times</title>"
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{_BOX_W}" height="{_BOX_H}" rx="6"/>'
            f'<text x="{x + 10:.0f}" y="{y + 22:.0f}" class="name">{esc(_clip(widget.name, 18))}</text>'
            f'<text x="{x + _BOX_W - 8:.0f}" y="{y + 22:.0f}" class="count" text-anchor="end">'
            f"entered {widget.entered}</text>"
            f'<text x="{x + 10:.0f}" y="{y + 42:.0f}" class="type">{esc(_clip(widget.type, 30))}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _clip(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; color: #1f2328; margin: 2rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2.5rem; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { text-align: left; padding: .3rem .8rem; border-bottom: 1px solid #d0d7de; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.low { color: #cf222e; } .sid { color: #656d76; font-family: ui-monospace, monospace; font-size: 12px; }
.scroll { overflow: auto; border: 1px solid #d0d7de; border-radius: 6px; background: #f6f8fa; }
.canvas .widget rect { fill: #fff; stroke: #1a7f37; stroke-width: 2; }
.canvas .widget.never-entered rect { stroke: #cf222e; stroke-dasharray: 6 4; fill: #fff5f5; }
.canvas text { font: 12px system-ui, sans-serif; fill: #1f2328; }
.canvas text.name { font-weight: 600; } .canvas text.type, .canvas text.count { fill: #656d76; }
.canvas text.event { font-size: 11px; fill: #656d76; paint-order: stroke; stroke: #f6f8fa; stroke-width: 4px; }
.canvas .end { fill: #656d76; }
.legend span { margin-right: 1.5rem; } .taken { color: #1a7f37; } .never { color: #cf222e; }
"""


def coverage_html(report: CoverageReport, title: str = "mockstudio flow coverage") -> str:
    """A self-contained page (inline CSS and SVG, nothing fetched): the summary table, then
    each flow's canvas with taken transitions solid green and the others dashed red."""
    esc = html.escape
    rows = []
    for index, flow in enumerate(report.flows):
        low = ' class="num low"' if flow.transition_percent < 100 else ' class="num"'
        rows.append(
            f'<tr><td><a href="#flow-{index}">{esc(flow.friendly_name)}</a><br>'
            f'<span class="sid">{esc(flow.flow_sid)}</span></td>'
            f'<td class="num">{flow.executions}</td>'
            f'<td class="num">{flow.widgets_entered}/{len(flow.widgets)}</td>'
            f'<td class="num">{flow.transitions_taken}/{len(flow.transitions)}</td>'
            f"<td{low}>{_format_percent(flow.transition_percent)}</td>"
            f"<td>{esc(', '.join(flow.never_taken))}</td></tr>"
        )
    rows.append(
        f"<tr><th>Total</th><td></td><td class='num'>{report.widgets_entered}/{report.widgets_total}</td>"
        f"<td class='num'>{report.transitions_taken}/{report.transitions_total}</td>"
        f"<td class='num'>{_format_percent(report.transition_percent)}</td><td></td></tr>"
    )
    sections = []
    for index, flow in enumerate(report.flows):
        transitions = "".join(
            f"<tr><td>{esc(t.label)}</td><td>{esc(t.next or '(end)')}</td>"
            f'<td class="num{"" if t.taken else " low"}">{t.taken}</td></tr>'
            for t in flow.transitions
        )
        sections.append(
            f'<section id="flow-{index}"><h2>{esc(flow.friendly_name)}</h2>'
            f'<p class="sid">{esc(flow.account_sid)} / {esc(flow.flow_sid)} - revision {flow.revision} - '
            f"{flow.executions} executions</p>"
            f'<div class="scroll">{_flow_svg(flow)}</div>'
            "<table><tr><th>Transition</th><th>Next</th><th>Taken</th></tr>"
            f"{transitions}</table></section>"
        )
    data = json.dumps(report.to_json()).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{_CSS}</style></head><body>"
        f"<h1>{esc(title)}</h1>"
        '<p class="legend"><span class="taken">&#9473; taken</span>'
        '<span class="never">&#9476; never taken</span></p>'
        "<table><tr><th>Flow</th><th>Executions</th><th>Widgets</th><th>Transitions</th><th>Cover</th>"
        f"<th>Never taken</th></tr>{''.join(rows)}</table>"
        f"{''.join(sections)}"
        f'<script type="application/json" id="coverage-data">{data}</script>'
        "</body></html>\n"
    )
