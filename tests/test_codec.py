"""CASE-6: the payload codec (famassist/codec.py): AES-256-GCM, key ids, rotation, old histories."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from pydantic import BaseModel, SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from typer.testing import CliRunner

from famassist.cli import app as cli
from famassist.codec import (
    ENCODING,
    KEY_ID,
    EncryptionCodec,
    NoPayloadKey,
    PayloadKeyError,
    PayloadTampered,
    UnknownPayloadKey,
    codec_from_settings,
    data_converter,
    new_key_line,
    parse_keys,
)
from famassist.devserver import codec_endpoint, dev_server_command
from famassist.launcher import ensure_dev_payload_key
from famassist.settings import Settings

KEY_A = "a-2026:" + base64.b64encode(b"A" * 32).decode()
KEY_B = "b-2027:" + base64.b64encode(b"B" * 32).decode()
MARKER = b"Opinion: personas kods 150385-12345, needs support"


class Note(BaseModel):
    text: str


def plain(data: bytes = MARKER) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


def codec(*lines: str) -> EncryptionCodec:
    return EncryptionCodec(parse_keys(",".join(lines)))


async def test_case6_a_payload_is_sealed_with_the_newest_key_and_opens_to_the_same_payload() -> None:
    a = codec(KEY_A)
    [sealed] = await a.encode([plain()])
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata[KEY_ID] == b"a-2026"
    assert MARKER not in sealed.SerializeToString() and b"150385" not in sealed.data
    assert await a.decode([sealed]) == [plain()]


async def test_case6_every_payload_gets_a_fresh_nonce() -> None:
    a = codec(KEY_A)
    sealed = await a.encode([plain(), plain(), plain()])
    assert len({p.data[:12] for p in sealed}) == 3 and len({p.data for p in sealed}) == 3


async def test_case6_a_payload_recorded_before_encryption_passes_through_decode_unchanged() -> None:
    old = [plain(), Payload(metadata={"encoding": b"binary/null"}), Payload()]
    assert await codec(KEY_A).decode(old) == old


async def test_case6_after_rotation_b_encrypts_and_payloads_sealed_with_a_still_open() -> None:
    [with_a] = await codec(KEY_A).encode([plain()])
    rotated = codec(KEY_B, KEY_A)  # B is the newest: first
    [with_b] = await rotated.encode([plain()])
    assert with_b.metadata[KEY_ID] == b"b-2027"
    assert await rotated.decode([with_a, with_b]) == [plain(), plain()]


async def test_case6_a_payload_sealed_with_a_key_not_configured_fails_naming_the_key() -> None:
    [with_b] = await codec(KEY_B).encode([plain()])
    with pytest.raises(UnknownPayloadKey, match="'b-2027', which is not configured") as raised:
        await codec(KEY_A).decode([with_b])
    assert raised.value.key_id == "b-2027" and base64.b64encode(b"A" * 32).decode() not in str(raised.value)


async def test_case6_a_changed_payload_or_a_key_id_moved_to_another_key_fails_the_tag() -> None:
    both = codec(KEY_A, KEY_B)
    [sealed] = await both.encode([plain()])
    changed = Payload(metadata=dict(sealed.metadata), data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1]))
    with pytest.raises(PayloadTampered):
        await both.decode([changed])
    moved = Payload(metadata={**sealed.metadata, KEY_ID: b"b-2027"}, data=sealed.data)
    with pytest.raises(PayloadTampered):
        await both.decode([moved])


@pytest.mark.parametrize(("text", "says"), [
    ("nocolon", "not '<key id>:<base64 key>'"),
    ("bad id!:" + base64.b64encode(b"x" * 32).decode(), "not '<key id>:<base64 key>'"),
    ("k:***", "is not base64"),
    ("k:" + base64.b64encode(b"x" * 16).decode(), "has 16 bytes; AES-256 takes 32"),
    (f"{KEY_A},{KEY_A}", "given twice"),
])
def test_case6_a_key_setting_that_cannot_be_used_is_refused_without_echoing_it(text: str, says: str) -> None:
    with pytest.raises(PayloadKeyError, match=says) as raised:
        parse_keys(text)
    assert "QUFB" not in str(raised.value) and "eHh4" not in str(raised.value)  # no key material


def test_keys_are_read_newest_first_from_lines_or_commas_with_comments_and_either_base64_alphabet() -> None:
    urlsafe = "c:" + base64.urlsafe_b64encode(b"\xfb" * 32).decode().rstrip("=")
    keys = parse_keys(f"# rotated 2027-01\n{KEY_B}\n{KEY_A}, {urlsafe}\n")
    assert [k.key_id for k in keys] == ["b-2027", "a-2026", "c"] and keys[2].secret == b"\xfb" * 32
    assert "QkJC" not in repr(keys[0])  # the secret is not in the repr
    assert [k.key_id for k in parse_keys(new_key_line("2026-12"))] == ["2026-12"]
    with pytest.raises(PayloadKeyError):
        new_key_line("no spaces")


def test_keys_come_from_the_setting_before_the_key_file_and_none_is_a_clear_error(tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    without = Settings(payload_keys=None, payload_keys_file=key_file)
    with pytest.raises(NoPayloadKey, match="FAMASSIST_PAYLOAD_KEYS"):
        codec_from_settings(without)
    key_file.write_text(f"{KEY_B}\n{KEY_A}\n")
    assert codec_from_settings(without).key_ids == ["b-2027", "a-2026"]
    given = Settings(payload_keys=SecretStr(KEY_A), payload_keys_file=key_file)
    assert codec_from_settings(given).key_ids == ["a-2026"]


def test_famassist_up_creates_a_development_key_file_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    settings = Settings(payload_keys=None, payload_keys_file=tmp_path / "var" / "dev-payload-keys")
    assert ensure_dev_payload_key(settings)
    text = settings.payload_keys_file.read_text()
    assert [k.key_id for k in parse_keys(text)] == ["dev-1"]
    assert stat.S_IMODE(os.stat(settings.payload_keys_file).st_mode) == 0o600
    assert not ensure_dev_payload_key(settings) and settings.payload_keys_file.read_text() == text


async def test_case6_the_data_converter_keeps_pydantic_and_encrypts_values_and_failure_messages() -> None:
    converter = data_converter(codec(KEY_A))
    assert issubclass(converter.payload_converter_class, pydantic_data_converter.payload_converter_class)
    [sealed] = await converter.encode([Note(text=MARKER.decode())])
    assert sealed.metadata["encoding"] == ENCODING and MARKER not in sealed.data
    assert await converter.decode([sealed], [Note]) == [Note(text=MARKER.decode())]
    failure = Failure()
    await converter.encode_failure(ApplicationError(MARKER.decode(), type="HRS-2"), failure)
    assert MARKER not in failure.SerializeToString()  # the message travels encrypted too
    error = await converter.decode_failure(failure)
    assert isinstance(error, ApplicationError) and error.message == MARKER.decode() and error.type == "HRS-2"


def test_the_dev_server_starts_with_the_apis_codec_endpoint_for_its_ui(tmp_path: Path) -> None:
    assert codec_endpoint("0.0.0.0", 8000) == "http://127.0.0.1:8000/codec"
    command = dev_server_command(db_file=tmp_path / "t.db", ip="127.0.0.1", port=7233, ui_port=8233,
                                 namespace="default", ui_codec_endpoint=codec_endpoint("127.0.0.1", 8001))
    assert command[command.index("--ui-codec-endpoint") + 1] == "http://127.0.0.1:8001/codec"
    assert Settings(temporal_ui_port=9233).codec_origins() == ("http://127.0.0.1:9233", "http://localhost:9233")
    assert Settings(codec_cors_origins="https://t.example.lv/, https://u.example.lv").codec_origins() == (
        "https://t.example.lv", "https://u.example.lv")


def test_famassist_payload_key_prints_a_key_the_settings_take() -> None:
    done = CliRunner().invoke(cli, ["payload-key", "--id", "2026-12"])
    assert done.exit_code == 0, done.output
    [key] = parse_keys(done.output)
    assert key.key_id == "2026-12" and len(key.secret) == 32
    assert CliRunner().invoke(cli, ["payload-key", "--id", "bad id"]).exit_code == 2
