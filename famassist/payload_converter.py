"""The pydantic payload converter, built once per process rather than twice per workflow task.

The SDK (temporalio 1.35) builds a new data converter for every workflow activation it decodes and
every completion it encodes (``_CommandAwareDataConverter.create``), and a data converter builds a
new payload converter from its class: for the pydantic converter that is a composite of seven
converters and an empty cache of pydantic type adapters. In a profile of the simulated first round
(issue 8) that construction was 5.6 % of the worker's time, for converters the SDK then never uses
(decoding and encoding an activation only applies the codec, CASE-6).

:class:`SharedPydanticPayloadConverter` gives every construction outside a workflow sandbox the
same instance, and so the same type-adapter cache. It holds no state but that cache (the SDK's
converters are not changed after they are built, and a copy with a serialization context is a new
instance, :meth:`SharedPydanticPayloadConverter.with_context`). Inside a sandbox each construction
is a new converter, as before: a sandboxed run re-imports the modules that are not passed through,
and the shared cache would otherwise keep their classes, and so the whole sandbox, alive.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar, Self

from temporalio import workflow
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import SerializationContext


class SharedPydanticPayloadConverter(PydanticPayloadConverter):
    """:class:`PydanticPayloadConverter`, one instance per process outside a workflow sandbox."""

    _shared: ClassVar[SharedPydanticPayloadConverter | None] = None
    _creating: ClassVar[threading.Lock] = threading.Lock()
    _built: bool = False

    def __new__(cls) -> Self:
        if workflow.unsafe.in_sandbox() or cls is not SharedPydanticPayloadConverter:
            return super().__new__(cls)
        with cls._creating:
            if SharedPydanticPayloadConverter._shared is None:
                shared = super().__new__(cls)
                PydanticPayloadConverter.__init__(shared)
                shared._built = True
                SharedPydanticPayloadConverter._shared = shared
            return SharedPydanticPayloadConverter._shared  # type: ignore[return-value]

    def __init__(self) -> None:
        if self._built:
            return  # the shared instance, built once
        super().__init__()
        self._built = True

    def __reduce__(self) -> tuple[Any, ...]:
        return (SharedPydanticPayloadConverter, ())

    def with_context(self, context: SerializationContext) -> Self:
        """A new plain converter when a component takes the context; never changes this one."""
        converters = self.get_converters_with_context(context)
        if converters is None:
            return self
        fresh = PydanticPayloadConverter()
        fresh._set_converters(*converters)
        return fresh  # type: ignore[return-value]
