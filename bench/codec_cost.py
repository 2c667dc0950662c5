"""CASE-6: what the payload codec costs per payload (µs), for payloads of a case's typical sizes.

    python -m bench.codec_cost

Seals and opens payloads one at a time (a workflow task's commands and activations carry few),
with AES-256-GCM and a fresh nonce each; prints the median of several rounds. The codec's share
of a request is this times the payloads it carries (a step of a case: a handful, its argument and
result and the record activity's input and result, each encrypted once and decrypted where read).
"""

from __future__ import annotations

import os
import statistics
import time

from temporalio.api.common.v1 import Payload

from famassist.codec import EncryptionCodec, new_key_line, parse_keys

SIZES = (200, 2_000, 20_000)  # bytes: a small update's argument, a case's state, a large plan
ROUNDS, PER_ROUND = 7, 2_000


def microseconds(codec: EncryptionCodec, size: int) -> tuple[float, float]:
    """Median µs to seal, and to open, one payload of ``size`` bytes."""
    payload = Payload(metadata={"encoding": b"json/plain"}, data=os.urandom(size))
    seal, open_ = [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        sealed = [codec.seal(payload) for _ in range(PER_ROUND)]
        seal.append((time.perf_counter() - started) / PER_ROUND)
        started = time.perf_counter()
        for one in sealed:
            codec.open(one)
        open_.append((time.perf_counter() - started) / PER_ROUND)
    return statistics.median(seal) * 1e6, statistics.median(open_) * 1e6


def main() -> None:
    codec = EncryptionCodec(parse_keys(f"{new_key_line('new')},{new_key_line('old')}"))
    load = os.getloadavg()[0]
    print(f"payload codec (AES-256-GCM), median of {ROUNDS} rounds × {PER_ROUND}; load {load:.1f}")
    print("| payload | encrypt µs | decrypt µs |")
    print("|---|---|---|")
    for size in SIZES:
        sealed, opened = microseconds(codec, size)
        print(f"| {size:,} B | {sealed:.1f} | {opened:.1f} |")


if __name__ == "__main__":
    main()
