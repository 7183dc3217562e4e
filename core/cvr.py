"""CVR numbers: 8 digits whose weighted sum (weights 2,7,6,5,4,3,2,1) is divisible by 11.

Digits are ASCII 0-9 only: ``str.isdigit`` alone also accepts Arabic-Indic, superscript and
other Unicode digits, which ``int`` would read as numbers."""

from __future__ import annotations

_WEIGHTS = (2, 7, 6, 5, 4, 3, 2, 1)


def is_valid_cvr(value: object) -> bool:
    if not isinstance(value, str) or len(value) != 8 or not value.isascii():
        return False
    if not value.isdigit() or value[0] == "0":
        return False
    return sum(int(d) * w for d, w in zip(value, _WEIGHTS, strict=True)) % 11 == 0


def complete_cvr(first_seven: str) -> str | None:
    """The valid CVR that starts with these seven digits, or None when no check digit fits."""
    partial = sum(int(d) * w for d, w in zip(first_seven, _WEIGHTS[:7], strict=True))
    check = (-partial) % 11
    return None if check == 10 else first_seven + str(check)
