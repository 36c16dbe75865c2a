"""The unified social credit code (统一社会信用代码) of GB 32100-2015.

Eighteen characters drawn from ``0-9`` and ``A-Z`` without ``I O Z S V``:

* position 1 — registration authority code (登记管理部门代码), e.g. ``9`` for market regulation;
* position 2 — entity type code (机构类别代码), e.g. ``1`` for an enterprise;
* positions 3–8 — administrative division code (登记管理机关行政区划码), six digits;
* positions 9–17 — organisation code (主体标识码 / 组织机构代码, GB 11714);
* position 18 — check character (校验码), a weighted sum modulo 31 over positions 1–17.

:func:`validate_uscc` checks length, characters (digits in 3–8) and the check character.
The organisation code's own GB 11714 check (组织机构代码校验码) is a separate, stricter test,
:func:`organisation_code_valid`: GB 32100 only requires the 18th character to check, so
:func:`validate_uscc` does not demand it.  (Every published code checked while writing this
module — ``MA…`` and ``L…`` ones and individual businesses 个体工商户 ``92…`` included — passed it.)
"""

from __future__ import annotations

import unicodedata

from core.i18n import N_

__all__ = [
    "ALPHABET",
    "InvalidCreditCode",
    "REASON_MESSAGES",
    "check_character",
    "normalize",
    "organisation_code_valid",
    "validate_uscc",
]

#: The 31 characters of GB 32100-2015, in value order (0–30).
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

#: GB 11714 organisation code (组织机构代码): digits and A–Z (A=10 … Z=35), eight plus a check.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

LENGTH = 18

REASON_MESSAGES: dict[str, str] = {
    "length": N_("A unified social credit code has 18 characters."),
    "character": N_("The character %(char)s is not allowed in a unified social credit code."),
    "check": N_("The check character of this unified social credit code is wrong."),
}


class InvalidCreditCode(ValueError):
    """A string that is not a valid unified social credit code.

    ``reason`` is a stable key of :data:`REASON_MESSAGES`; ``params`` fill its placeholders
    (``{"char": "I"}`` for ``"character"``).
    """

    def __init__(self, reason: str, **params: str) -> None:
        super().__init__(reason, *([params] if params else []))
        self.reason = reason
        self.params = dict(params)

    @property
    def message(self) -> str:
        """The untranslated message id for :attr:`reason`."""
        return REASON_MESSAGES[self.reason]


def normalize(code: str) -> str:
    """Strip spaces, fold full-width characters (全角) to half-width and upper-case."""
    folded = unicodedata.normalize("NFKC", code or "")
    return "".join(folded.split()).upper()


def check_character(first17: str) -> str:
    """The check character (校验码) for the first 17 characters of a code.

    Raises :class:`InvalidCreditCode` when ``first17`` is not 17 valid characters.
    """
    first17 = normalize(first17)
    if len(first17) != LENGTH - 1:
        raise InvalidCreditCode("length")
    total = 0
    for ch, weight in zip(first17, _WEIGHTS):
        if ch not in _VALUE:
            raise InvalidCreditCode("character", char=ch)
        total += _VALUE[ch] * weight
    return ALPHABET[(31 - total % 31) % 31]


def validate_uscc(code: str) -> str:
    """Return the normalized code, or raise :class:`InvalidCreditCode`.

    The reason is ``"length"``, ``"character"`` (with ``char``; also a letter among the six
    division digits, positions 3–8) or ``"check"``.
    """
    value = normalize(code)
    if len(value) != LENGTH:
        raise InvalidCreditCode("length")
    for ch in value:
        if ch not in _VALUE:
            raise InvalidCreditCode("character", char=ch)
    for ch in value[2:8]:
        if not ch.isdigit():  # the administrative division code is six digits
            raise InvalidCreditCode("character", char=ch)
    if check_character(value[:17]) != value[17]:
        raise InvalidCreditCode("check")
    return value


def _org_value(ch: str) -> int | None:
    if ch.isdigit():
        return int(ch)
    if "A" <= ch <= "Z":
        return ord(ch) - ord("A") + 10
    return None


def organisation_code_valid(code: str) -> bool:
    """Whether the organisation code (组织机构代码, GB 11714) inside a code checks out.

    Accepts either a full 18-character credit code (positions 9–17 are used) or the 9-character
    organisation code itself (a hyphen before the check, ``71610585-2``, is allowed).
    """
    value = normalize(code).replace("-", "")
    if len(value) == LENGTH:
        value = value[8:17]
    if len(value) != 9:
        return False
    total = 0
    for ch, weight in zip(value[:8], _ORG_WEIGHTS):
        v = _org_value(ch)
        if v is None:
            return False
        total += v * weight
    check = 11 - total % 11
    expected = {10: "X", 11: "0"}.get(check, str(check))
    return value[8] == expected
