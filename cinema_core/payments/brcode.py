"""Pix copy-paste codes (BR Code): the EMV text a banking app reads from the QR or the clipboard.

Only the sandbox makes them; a real provider hands its own. They follow the BR Code layout
(id-length-value fields, a CRC16 at the end) so that a page or a test treats them like real
ones, but point at a made-up address, so no bank could ever pay one.
"""

from __future__ import annotations

from cinema_core.kernel.money import Money

_MERCHANT_NAME = "CINEMA BOX OFFICE"
_MERCHANT_CITY = "SAO PAULO"


def _field(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def crc16(text: str) -> str:
    """CRC-16/CCITT-FALSE (polynomial 0x1021, start 0xFFFF), as four hex digits: the checksum
    that closes a BR Code."""
    crc = 0xFFFF
    for byte in text.encode():
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def sandbox_brcode(charge_id: str, amount: Money) -> str:
    """A dynamic Pix BR Code for ``amount`` whose location names the sandbox charge."""
    account = _field("00", "br.gov.bcb.pix") + _field("25", f"sandbox.invalid/pix/{charge_id}"[:77])
    text = (
        _field("00", "01")
        + _field("01", "12")  # 12: a code for one payment only
        + _field("26", account)
        + _field("52", "0000")
        + _field("53", "986")  # ISO 4217 numeric for BRL
        + _field("54", str(amount))
        + _field("58", "BR")
        + _field("59", _MERCHANT_NAME)
        + _field("60", _MERCHANT_CITY)
        + _field("62", _field("05", "***"))
        + "6304"
    )
    return text + crc16(text)
