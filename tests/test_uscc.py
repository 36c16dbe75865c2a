"""The unified social credit code (统一社会信用代码, GB 32100-2015)."""

import pytest

from core.uscc import (
    ALPHABET,
    REASON_MESSAGES,
    InvalidCreditCode,
    check_character,
    normalize,
    organisation_code_valid,
    validate_uscc,
)

# Published codes of real organisations, each checked against the algorithm.
REAL_CODES = {
    "91330100716105852F": "阿里巴巴（中国）有限公司",
    "9144030071526726XG": "深圳市腾讯计算机系统有限公司",
    "914403001922038216": "华为技术有限公司",
    "91110000710926094P": "中国石油化工股份有限公司",
    "91110000101623741K": "中国全聚德（集团）股份有限公司",
    "91110000600037341L": "python-stdnum example",
    "91310115MA1K3BTP2B": "Shanghai enterprise with an MA organisation code",
    "91620105L015101280": "Lanzhou enterprise with an L organisation code",
    "92110114MA01EF6DXH": "个体工商户 (individual business), Beijing",
    "121200004013590816": "事业单位 (public institution) registered by 机构编制",
}


def _other(ch: str) -> str:
    return ALPHABET[(ALPHABET.index(ch) + 1) % len(ALPHABET)]


@pytest.mark.parametrize("code", sorted(REAL_CODES))
def test_real_codes_are_accepted(code):
    assert validate_uscc(code) == code
    assert check_character(code[:17]) == code[17]


@pytest.mark.parametrize("code", sorted(REAL_CODES))
def test_real_codes_have_a_valid_organisation_code(code):
    assert organisation_code_valid(code)


@pytest.mark.parametrize("code", sorted(REAL_CODES))
def test_any_other_check_character_is_refused(code):
    for ch in ALPHABET:
        if ch == code[17]:
            continue
        with pytest.raises(InvalidCreditCode) as info:
            validate_uscc(code[:17] + ch)
        assert info.value.reason == "check"


def test_a_changed_character_is_caught_by_the_check():
    code = "91330100716105852F"
    for i in (0, 1, 8, 12, 16):
        changed = code[:i] + _other(code[i]) + code[i + 1 :]
        with pytest.raises(InvalidCreditCode) as info:
            validate_uscc(changed)
        assert info.value.reason == "check"


@pytest.mark.parametrize("bad", "IOZSV")
def test_excluded_letters_are_refused(bad):
    code = "91330100716105852F"
    with pytest.raises(InvalidCreditCode) as info:
        validate_uscc(code[:10] + bad + code[11:])
    assert info.value.reason == "character"
    assert info.value.params == {"char": bad}
    with pytest.raises(InvalidCreditCode):
        check_character("9133010071610585" + bad)


def test_punctuation_and_letters_in_the_division_code_are_refused():
    with pytest.raises(InvalidCreditCode) as info:
        validate_uscc("91330100716105852-")
    assert (info.value.reason, info.value.params) == ("character", {"char": "-"})
    # a letter where the six-digit administrative division code belongs
    first17 = "91A30100716105852"
    with pytest.raises(InvalidCreditCode) as info:
        validate_uscc(first17 + check_character(first17))
    assert (info.value.reason, info.value.params) == ("character", {"char": "A"})


@pytest.mark.parametrize("code", ["", "9133010071610585", "91330100716105852F0", "9"])
def test_wrong_length_is_refused(code):
    with pytest.raises(InvalidCreditCode) as info:
        validate_uscc(code)
    assert info.value.reason == "length"
    assert info.value.params == {}


def test_lower_case_full_width_and_spaces_are_normalized():
    assert normalize(" 91330100716105852f\n") == "91330100716105852F"
    assert validate_uscc("91330100716105852f") == "91330100716105852F"
    assert validate_uscc("９１３３０１００７１６１０５８５２Ｆ") == "91330100716105852F"
    assert validate_uscc("９１４４０３００７１５２６７２６ｘｇ") == "9144030071526726XG"
    assert validate_uscc("91 3301 00716105852F\u3000") == "91330100716105852F"
    assert check_character("９１３３０１００７１６１０５８５２") == "F"


def test_check_character_maps_31_to_0():
    # find a prefix whose weighted sum is a multiple of 31: its check character is "0"
    prefixes = (f"9133010071610{n:04d}" for n in range(10000))
    first17 = next(p for p in prefixes if check_character(p) == "0")
    assert validate_uscc(first17 + "0") == first17 + "0"


def test_check_character_needs_17_characters():
    with pytest.raises(InvalidCreditCode) as info:
        check_character("9133010071610585")
    assert info.value.reason == "length"


def test_organisation_code_check():
    assert organisation_code_valid("71610585-2")
    assert organisation_code_valid("716105852")
    assert not organisation_code_valid("716105853")
    assert not organisation_code_valid("7161058")
    # 'X' stands for 10: 71526726X is Tencent's organisation code
    assert organisation_code_valid("71526726X")
    # a credit code whose 18th character checks but whose organisation code does not
    first17 = "91330100716105853"
    code = first17 + check_character(first17)
    assert validate_uscc(code) == code
    assert not organisation_code_valid(code)


def test_every_reason_has_a_message():
    assert set(REASON_MESSAGES) == {"length", "character", "check"}
    assert "%(char)s" in REASON_MESSAGES["character"]
    error = InvalidCreditCode("character", char="I")
    assert error.message == REASON_MESSAGES["character"]
    assert error.message % error.params == (
        "The character I is not allowed in a unified social credit code."
    )
