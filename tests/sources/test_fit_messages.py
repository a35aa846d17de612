"""Only the FIT messages the reader reads are decoded: the same messages as a full decode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from garmin_fit_sdk import Decoder, Stream

from sources import fit_messages
from tests.conftest import REAL_DATA, needs_real_data
from tests.sources.fit_fixtures import FitSet, write_fit

READ = frozenset({fit_messages.FILE_ID, fit_messages.SESSION, fit_messages.SET})
KINDS = ("file_id_mesgs", "session_mesgs", "set_mesgs", "record_mesgs")


def decoded(data: bytes, crc: bool = True) -> dict[str, Any]:
    messages, errors = Decoder(Stream.from_byte_array(bytearray(data))).read(enable_crc_check=crc)
    assert errors == []
    # As text: a NaN field is not equal to itself.
    return {kind: json.dumps(messages.get(kind), default=str) for kind in KINDS}


@needs_real_data
def test_a_real_activity_keeps_the_messages_read_and_loses_most_of_its_bytes() -> None:
    data = (REAL_DATA / "garmin" / "garmin_multisport_strength.fit").read_bytes()
    full = decoded(data)
    cut = fit_messages.only(data, READ | {fit_messages.RECORD})
    assert cut is not None and len(cut) < 0.7 * len(data)
    assert decoded(cut, crc=False) == full
    without_records = fit_messages.only(data, READ)
    assert without_records is not None
    shown = decoded(without_records, crc=False)
    assert json.loads(shown["record_mesgs"]) in ([], None)
    assert {kind: shown[kind] for kind in KINDS[:3]} == {kind: full[kind] for kind in KINDS[:3]}


def test_a_generated_activity_keeps_its_sets_and_a_broken_one_is_decoded_whole(
    tmp_path: Path,
) -> None:
    data = write_fit(tmp_path / "a.fit", [FitSet(reps=8, weight_kg=60.0)] * 3).read_bytes()
    cut = fit_messages.only(data, READ)
    assert cut is not None and decoded(cut, crc=False) == decoded(data)
    assert fit_messages.only(data[:-5], READ) is None  # a length that does not add up
    assert fit_messages.only(b"\x0e\x10not a fit file", READ) is None
