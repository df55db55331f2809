"""Money in the register: integer fen, so no database (SQLite stores NUMERIC as a float) rounds a yuan."""

from __future__ import annotations

from decimal import Decimal

_FEN = Decimal("0.01")


def to_fen(yuan: Decimal) -> int:
    return int((yuan / _FEN).to_integral_exact())


def to_yuan(fen: int) -> Decimal:
    return (Decimal(fen) * _FEN).quantize(_FEN)
