"""Issue 8: the pydantic payload converter is built once per process outside a sandbox
(famassist/payload_converter.py), and stays a converter of its own inside one."""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from pydantic import BaseModel
from temporalio import workflow
from temporalio.converter import CompositePayloadConverter, WorkflowSerializationContext

from famassist.codec import EncryptionCodec, data_converter, parse_keys
from famassist.payload_converter import SharedPydanticPayloadConverter
from tests.payload_keys import TEST_PAYLOAD_KEYS


class Entry(BaseModel):
    on: date
    hours: Decimal


def inner(converter: object) -> object:
    """The payload converter a data converter wraps with the SDK's transfer types."""
    return getattr(converter, "_inner_payload_converter", converter)


@pytest.fixture
def in_a_sandbox() -> Iterator[None]:
    workflow.unsafe._set_in_sandbox(True)
    try:
        yield
    finally:
        workflow.unsafe._set_in_sandbox(False)


def test_every_data_converter_the_sdk_builds_outside_a_sandbox_shares_one_payload_converter() -> None:
    converter = data_converter(EncryptionCodec(parse_keys(TEST_PAYLOAD_KEYS)))
    again = dataclasses.replace(converter)  # what the SDK does for every activation and completion
    assert isinstance(inner(converter.payload_converter), SharedPydanticPayloadConverter)
    assert inner(again.payload_converter) is inner(converter.payload_converter)
    assert SharedPydanticPayloadConverter() is SharedPydanticPayloadConverter()


def test_the_shared_converter_converts_as_the_pydantic_converter_does() -> None:
    converter = data_converter(None).payload_converter
    entry = Entry(on=date(2026, 11, 25), hours=Decimal("7.5"))
    payloads = converter.to_payloads([entry, "text", None])
    assert converter.from_payloads(payloads, [Entry, str, type(None)]) == [entry, "text", None]


def test_inside_a_sandbox_each_construction_is_a_converter_of_its_own(in_a_sandbox: None) -> None:
    first, second = SharedPydanticPayloadConverter(), SharedPydanticPayloadConverter()
    assert first is not second
    assert first is not SharedPydanticPayloadConverter._shared
    entry = Entry(on=date(2026, 11, 25), hours=Decimal("1.25"))
    assert first.from_payloads(second.to_payloads([entry]), [Entry]) == [entry]


def test_a_copy_with_a_serialization_context_never_changes_the_shared_converter(
        monkeypatch: pytest.MonkeyPatch) -> None:
    shared = SharedPydanticPayloadConverter()
    context = WorkflowSerializationContext(namespace="default", workflow_id="case-1")
    assert shared.with_context(context) is shared  # no component takes a context
    before = dict(shared.converters)
    monkeypatch.setattr(CompositePayloadConverter, "get_converters_with_context",
                        lambda self, context: list(reversed(self.converters.values())))
    copy = shared.with_context(context)
    assert copy is not shared
    assert shared.converters == before
    assert list(copy.converters.values()) == list(reversed(before.values()))


def test_a_pickled_shared_converter_comes_back_as_the_shared_one() -> None:
    shared = SharedPydanticPayloadConverter()
    assert pickle.loads(pickle.dumps(shared)) is shared
