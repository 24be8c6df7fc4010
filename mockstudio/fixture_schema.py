"""The fixture file format as pydantic models (validated with errors that name the field).
Loaded only when a fixture file other than the bundled one is read (startup time)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["AccountFixture", "ApiKeyFixture", "FixtureFile", "FlowFixture"]


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


class FixtureFile(_Model):
    accounts: list[AccountFixture] = []
    flows: list[FlowFixture] = []
