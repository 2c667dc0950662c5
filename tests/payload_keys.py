"""The suite's payload key (CASE-6), as an operator configures it: every test client encrypts.

tests/conftest.py puts it in ``FAMASSIST_PAYLOAD_KEYS`` for the whole run, so every ``Settings()``
of the suite has it; the test servers' clients and the replayers use :data:`CONVERTER`.
"""

from __future__ import annotations

from famassist.codec import EncryptionCodec, data_converter, parse_keys

TEST_PAYLOAD_KEYS = "test-1:lNG4PKhIzPA/WcgdS+P3KF4YXvMfSYpDLNCZ4Dxgysc="
CONVERTER = data_converter(EncryptionCodec(parse_keys(TEST_PAYLOAD_KEYS)))
