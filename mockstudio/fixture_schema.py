"""The fixture file format as pydantic models (validated with errors that name the field).
Loaded only when a fixture file other than the bundled one is read (startup time)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["AccountFixture", "ApiKeyFixture", "FixtureFile", "FlowFixture", "SinkFixture", "SubscriptionFixture"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApiKeyFixture(_Model):
    sid: str = Field(pattern=r"^SK[0-9a-fA-F]{32}$")
    secret: str = Field(min_length=1, pattern=r"^[A-Za-z0-9]+$")


class AccountFixture(_Model):
    sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: str = Field(min_length=1, pattern=r"^[A-Za-z0-9]+$")
    friendly_name: str | None = None
    api_keys: list[ApiKeyFixture] = []


class FlowFixture(_Model):
    sid: str = Field(pattern=r"^FW[0-9a-fA-F]{32}$")
    friendly_name: str = Field(min_length=1)
    account_sid: str | None = Field(None, pattern=r"^AC[0-9a-fA-F]{32}$")
    status: Literal["draft", "published"] = "published"
    commit_message: str | None = None
    definition: dict[str, Any] | None = None
    definition_file: str | None = None
    numbers: list[str] = []  # addresses whose inbound messages start this flow

    @model_validator(mode="after")
    def _one_definition(self) -> FlowFixture:
        if (self.definition is None) == (self.definition_file is None):
            raise ValueError("give exactly one of `definition` and `definition_file`")
        return self


class SinkFixture(_Model):
    """An Event Streams sink, active from the start (no Test/Validate handshake)."""

    sid: str = Field(pattern=r"^DG[0-9a-fA-F]{32}$")
    account_sid: str | None = Field(None, pattern=r"^AC[0-9a-fA-F]{32}$")
    description: str = Field(min_length=1)
    sink_type: Literal["webhook", "kinesis", "segment", "email"] = "webhook"
    sink_configuration: dict[str, Any]


class SubscribedTypeFixture(_Model):
    type: str = Field(min_length=1)
    schema_version: int | None = None


class SubscriptionFixture(_Model):
    sid: str = Field(pattern=r"^DF[0-9a-fA-F]{32}$")
    account_sid: str | None = Field(None, pattern=r"^AC[0-9a-fA-F]{32}$")
    description: str = Field(min_length=1)
    sink_sid: str = Field(pattern=r"^DG[0-9a-fA-F]{32}$")
    types: list[SubscribedTypeFixture] = Field(min_length=1)


class FixtureFile(_Model):
    accounts: list[AccountFixture] = []
    flows: list[FlowFixture] = []
    sinks: list[SinkFixture] = []
    subscriptions: list[SubscriptionFixture] = []
