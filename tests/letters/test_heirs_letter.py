"""The heirs' letter: its content from a finished case and the guidance data, and its PDF read back as text."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from client.letter_pdf import DEFAULT_FONT_FILE, LetterFontMissing, render_pdf
from domain.enums import CaseState
from domain.heirs_letter import (
    TITLE,
    HeirsGuidance,
    LetterNotReady,
    build_letter,
    default_guidance,
    letter_lines,
    load_guidance,
)
from domain.policy import Policy
from tests.letters.cases import CASE, finished

TZ = "Asia/Shanghai"
DEPOSIT_RULE = "各银行单家不超过5万元的小额存款，继承人可凭死亡证明、亲属关系证明等材料办理，无需公证。"


def test_the_letter_names_what_was_done_paid_not_done_and_what_remains() -> None:
    letter = build_letter(finished(), default_guidance(), timezone=TZ, window=Policy().window)
    assert letter.title == TITLE == "身后事项办理告知书（继承人）"
    assert letter.case_number == CASE and letter.closed_on == "2026年12月3日"
    done = {line.matter: line for line in letter.done}
    assert done["死亡人员户口注销"].certificate_no == "HK-2026-0088"
    assert done["死亡人员户口注销"].department.startswith("公安局")
    assert [(p.amount, p.reference, p.paid_on) for p in letter.paid] == [
        # Confirmed at 17:05 UTC on the 1st: the 2nd in Beijing.
        ("8,849.45元", "PAY-HRSS-0001", "2026年12月2日"),
        ("56,321.07元", "PAY-HPF-0002", "2026年12月2日"),
    ]
    assert letter.total_paid == "65,170.52元"
    assert [(r.amount) for r in letter.to_return] == ["500.00元"]
    assert [(n.outcome, n.reason) for n in letter.not_done] == [("不予办理", "逝者未享受残疾人两项补贴")]
    codes = [item.code for item in letter.remaining]
    assert codes == ["bank_deposits", "real_estate", "vehicle", "securities_and_insurance"]
    text = "\n".join(letter_lines(letter))
    for needed in (DEPOSIT_RULE, "丧葬费、抚恤金，可全额提取", "不动产登记中心", "车管所", "一般性办理指引",
                   "咨询核实", Policy().window.phone):
        assert needed in text, needed
    # Only what the status carries, masked: never a full card number or a name in clear.
    assert letter.payee_card == "6222 **** **** 1234" and letter.deceased == "王**"


@pytest.mark.parametrize("state", [s for s in CaseState if s is not CaseState.COMPLETED])
def test_no_letter_before_the_case_is_finished(state: CaseState) -> None:
    with pytest.raises(LetterNotReady):
        build_letter(finished(state), default_guidance(), timezone=TZ)


def test_a_county_guidance_file_is_read_and_checked(tmp_path: Path) -> None:
    own = tmp_path / "guidance.yaml"
    own.write_text("version: v1\nnotice: 仅供参考\nitems:\n  - {code: x, title: 标题, where: 某处, materials: [甲], "
                   "rules: [乙]}\n", encoding="utf-8")
    assert load_guidance(own).items[0].title == "标题"
    own.write_text("version: v1\nnotice: 仅供参考\nitems: []\n", encoding="utf-8")
    with pytest.raises(ValueError):
        load_guidance(own)
    assert isinstance(load_guidance(None), HeirsGuidance)


def font_or_skip() -> Path:
    if not DEFAULT_FONT_FILE.is_file():
        if os.environ.get("CI"):
            pytest.fail("fonts-noto-cjk is required for the letter's PDF in CI (scripts/test installs it)")
        pytest.skip("fonts-noto-cjk is missing (scripts/test installs it)")
    return DEFAULT_FONT_FILE


def pdf_text(pdf: bytes, case_number: str = CASE) -> str:
    """The PDF's text as pypdf reads it, whitespace removed; each page's footer dropped, so a sentence that
    runs onto the next page reads whole."""
    reader = PdfReader(io.BytesIO(pdf))
    pages = ["".join(page.extract_text().replace("\x00", "").split()) for page in reader.pages]
    return "".join(re.sub(rf"受理编号{case_number}第{number}页", "", text) for number, text in enumerate(pages, 1))


def test_the_pdf_names_each_payment_and_the_deposit_rule() -> None:
    letter = build_letter(finished(), default_guidance(), timezone=TZ, window=Policy().window)
    pdf = render_pdf(letter, font_or_skip())
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "身后事项办理告知书（继承人）" in text and CASE in text
    for payment in letter.paid:
        for told in (payment.matter, payment.amount, payment.reference, payment.paid_on):
            assert told in text, told
    assert "合计实发：65,170.52元" in text
    assert "".join(DEPOSIT_RULE.split()) in text and "5万元" in text
    assert "逝者未享受残疾人两项补贴" in text and "需退回500.00元" in text
    # The metadata carry the title only: no name, no card.
    info = PdfReader(io.BytesIO(pdf)).metadata
    assert info is not None and "王" not in " ".join(str(v) for v in info.values())


def test_a_missing_font_is_said_plainly(tmp_path: Path) -> None:
    letter = build_letter(finished(), default_guidance(), timezone=TZ)
    with pytest.raises(LetterFontMissing, match="fonts-noto-cjk"):
        render_pdf(letter, tmp_path / "none.ttc")
