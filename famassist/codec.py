"""CASE-6: every workflow payload is stored encrypted, with a key the operator holds.

A Temporal payload codec: each payload the SDK sends (workflow inputs, results, signals,
updates, activity arguments, memos, failure details) is serialised by the pydantic payload
converter, then sealed here with AES-256-GCM under a fresh 96-bit nonce. The encrypted payload
says which key sealed it (``encryption-key-id`` in its metadata), so keys rotate: the newest key
encrypts, every configured key decrypts. A payload without our encoding (a history recorded
before encryption, a workflow started without it) passes through :meth:`decode` unchanged.

Keys are written ``<key id>:<32 bytes in base64>``, several separated by commas or lines, the
newest first (``FAMASSIST_PAYLOAD_KEYS`` or the key file ``payload_keys_file``; README,
*Encryption keys*). Modelled on Temporal's samples-python ``encryption/`` sample.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

from famassist.payload_converter import SharedPydanticPayloadConverter
from famassist.settings import Settings

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12  # AES-GCM's 96-bit nonce, random per payload
KEY_BYTES = 32  # AES-256
KEY_ID_FORMAT = re.compile(r"[A-Za-z0-9._-]{1,64}")


class PayloadKeyError(ValueError):
    """A key setting that cannot be used (its text never appears in the message)."""


class UnknownPayloadKey(ValueError):
    """A payload sealed with a key that is not configured (a key removed too early, or another system's)."""

    def __init__(self, key_id: str, configured: Sequence[str]) -> None:
        super().__init__(f"the payload was encrypted with the key {key_id!r}, which is not configured "
                         f"(configured: {', '.join(configured)}); add that key to FAMASSIST_PAYLOAD_KEYS "
                         "or the payload key file (decrypt only: after the newest)")
        self.key_id = key_id


class PayloadTampered(ValueError):
    """The authentication tag does not match: the payload or its key id was changed."""


@dataclass(frozen=True)
class PayloadKey:
    key_id: str
    secret: bytes = dataclasses.field(repr=False)


def new_key_line(key_id: str | None = None) -> str:
    """A fresh key as the settings take it: ``<key id>:<base64 of 32 random bytes>``."""
    key_id = key_id or f"key-{secrets.token_hex(4)}"
    if not KEY_ID_FORMAT.fullmatch(key_id):
        raise PayloadKeyError("a key id is 1-64 letters, digits, '.', '_' or '-'")
    return f"{key_id}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}"


def parse_keys(text: str) -> list[PayloadKey]:
    """``id:base64`` entries separated by commas or new lines, the newest first; ``#`` starts a comment."""
    keys: list[PayloadKey] = []
    for line in text.splitlines():
        for entry in line.split("#", 1)[0].split(","):
            entry = entry.strip()
            if not entry:
                continue
            key_id, sep, encoded = entry.partition(":")
            key_id = key_id.strip()
            if not sep or not KEY_ID_FORMAT.fullmatch(key_id):
                raise PayloadKeyError(f"payload key number {len(keys) + 1} is not '<key id>:<base64 key>' "
                                      "(a key id is 1-64 letters, digits, '.', '_' or '-')")
            try:  # standard or URL-safe alphabet, padding optional
                encoded = encoded.strip().replace("-", "+").replace("_", "/")
                secret = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
            except (binascii.Error, ValueError):
                raise PayloadKeyError(f"the payload key {key_id!r} is not base64") from None
            if len(secret) != KEY_BYTES:
                raise PayloadKeyError(f"the payload key {key_id!r} has {len(secret)} bytes; AES-256 takes 32")
            if any(k.key_id == key_id for k in keys):
                raise PayloadKeyError(f"the payload key id {key_id!r} is given twice")
            keys.append(PayloadKey(key_id, secret))
    return keys


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM: the first key encrypts, every key decrypts (CASE-6).

    A sealed payload is ``nonce ‖ ciphertext ‖ tag`` of the original payload's protobuf bytes, with
    the key id as associated data: moving a payload's key id to another key fails the tag.
    """

    def __init__(self, keys: Sequence[PayloadKey]) -> None:
        if not keys:
            raise PayloadKeyError("at least one payload key is needed")
        super().__init__()
        self.newest = keys[0]
        self._ciphers = {key.key_id: AESGCM(key.secret) for key in keys}
        self._encrypting = self._ciphers[self.newest.key_id]
        self._newest_id = self.newest.key_id.encode()

    @property
    def key_ids(self) -> list[str]:
        return list(self._ciphers)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(p) for p in payloads]

    def seal(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._encrypting.encrypt(nonce, payload.SerializeToString(), self._newest_id)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: self._newest_id}, data=nonce + sealed)

    def open(self, payload: Payload) -> Payload:
        """The original payload; one without our encoding (recorded before encryption) as it is."""
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode("utf-8", "replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownPayloadKey(key_id, self.key_ids)
        try:
            plain = cipher.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], key_id.encode())
        except InvalidTag:
            raise PayloadTampered(f"the payload does not decrypt with the key {key_id!r}: it was changed, "
                                  "or the key of that id is not the one that encrypted it") from None
        return Payload.FromString(plain)


def data_converter(codec: PayloadCodec | None) -> DataConverter:
    """The pydantic payload converter, then the codec. Failure messages and stack traces are moved
    into an encoded (so encrypted) payload too: an error may quote what was typed (CASE-6)."""
    return dataclasses.replace(pydantic_data_converter, payload_codec=codec,
                               payload_converter_class=SharedPydanticPayloadConverter,  # built once (issue 8)
                               failure_converter_class=DefaultFailureConverterWithEncodedAttributes)


class NoPayloadKey(RuntimeError):
    """No payload key is configured: nothing may write to Temporal (CASE-6)."""


def codec_from_settings(settings: Settings) -> EncryptionCodec:
    """The codec of the configured keys; :class:`NoPayloadKey` when there is none."""
    text = settings.payload_key_text()
    if text is None:
        raise NoPayloadKey(f"no payload encryption key is configured (CASE-6): set FAMASSIST_PAYLOAD_KEYS or the "
                           f"key file {settings.payload_keys_file} (`famassist up` creates a development key; "
                           "`famassist payload-key` prints a new one)")
    return EncryptionCodec(parse_keys(text))


def settings_data_converter(settings: Settings) -> DataConverter:
    """What every client of this service uses: the API's, the worker's, the simulation's, the CLI's."""
    return data_converter(codec_from_settings(settings))
