"""The messages of a FIT file the reader reads, cut out before decoding: a watch's activity is
mostly second-by-second records and device, zone and battery data that the SDK would decode in
full, message by message (2/3 of a real strength activity's bytes)."""

from __future__ import annotations

import struct

# Global message numbers (the FIT profile's mesg_num).
FILE_ID, SESSION, RECORD, SET = 0, 18, 20, 225
# Developer data: the definitions a kept message's developer fields are decoded with.
FIELD_DESCRIPTION, DEVELOPER_DATA_ID = 206, 207
DEFINITIONS = frozenset({FIELD_DESCRIPTION, DEVELOPER_DATA_ID})


def only(data: bytes, numbers: frozenset[int]) -> bytes | None:
    """`data` with only the data messages of `numbers` (and the developer data definitions),
    every definition kept, its length and CRCs made to fit; None when the file holds anything
    this does not follow (compressed timestamps, which count on every message before them,
    several files in a row, a length that does not add up): then decode it whole."""
    if len(data) < 14 or data[0] not in (12, 14):
        return None
    header = data[0]
    end = header + struct.unpack_from("<I", data, 4)[0]
    if end + 2 != len(data):
        return None
    kept = bytearray()
    defined: dict[int, tuple[int, int]] = {}  # local type: global number, data size
    at = header
    try:
        while at < end:
            record = data[at]
            if record & 0x80:  # a compressed timestamp
                return None
            if record & 0x40:  # a definition: reserved, architecture, number, fields
                order = "<H" if data[at + 2] == 0 else ">H"
                fields = data[at + 5]
                length = 6 + 3 * fields
                size = sum(data[at + 7 + 3 * n] for n in range(fields))
                if record & 0x20:  # developer fields follow
                    extra = data[at + length]
                    size += sum(data[at + length + 2 + 3 * n] for n in range(extra))
                    length += 1 + 3 * extra
                defined[record & 0x0F] = (struct.unpack_from(order, data, at + 3)[0], size)
                kept += data[at : at + length]
                at += length
                continue
            number, size = defined[record & 0x0F]
            if number in numbers or number in DEFINITIONS:
                kept += data[at : at + 1 + size]
            at += 1 + size
    except (IndexError, KeyError, struct.error):
        return None
    if at != end:
        return None
    head = bytearray(data[:header])
    struct.pack_into("<I", head, 4, len(kept))
    if header == 14:
        struct.pack_into("<H", head, 12, 0)  # 0: no header CRC (its bytes changed)
    return bytes(head + kept) + b"\x00\x00"  # decoded without the CRC check (checked before)
