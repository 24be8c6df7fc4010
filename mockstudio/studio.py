"""The domain's public names in one place (see mockstudio.domain for where each lives)."""

from __future__ import annotations

from .domain.accounts import AccountSeed, AccountState, FlowSeed, StateStore, Studio
from .domain.executions import ExecutionFilters, parse_parameters
from .domain.flows import check_flow_definition, definition_problems, flow_status, inert_definition

__all__ = [
    "AccountSeed",
    "AccountState",
    "ExecutionFilters",
    "FlowSeed",
    "StateStore",
    "Studio",
    "check_flow_definition",
    "definition_problems",
    "flow_status",
    "inert_definition",
    "parse_parameters",
]
