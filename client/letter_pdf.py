"""The heirs' letter (domain/heirs_letter.py) printed as an A4 PDF with a CJK font embedded (fpdf2).

The font is a file (setting ``letter_font_file``; default Debian's fonts-noto-cjk ``NotoSansCJK-Regular.ttc``,
which the Docker image and scripts/test install). From a collection the Simplified Chinese face (``… SC``) is
taken. Only the glyphs the letter uses are kept (fontTools' subsetter), and CFF outlines are turned into
TrueType ones: a PDF reader then finds each character through the font's plain Identity-H encoding (with the
CID-keyed CFF of Noto CJK, fpdf2 writes an encoding CMap that some text extractors, pypdf among them, misread).
The PDF's metadata carry the title only: no personal data.
"""

from __future__ import annotations

import string
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.subset import Options, Subsetter
from fontTools.ttLib import TTCollection, TTFont, TTLibError, newTable
from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos

from domain.heirs_letter import Letter

DEFAULT_FONT_FILE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
_FONT = "cjk"


class LetterFontMissing(Exception):
    """The configured font file cannot be read."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"未找到告知书所用的中文字体文件（{path}）：请安装 fonts-noto-cjk，"
                         "或用 SHENHOU_LETTER_FONT_FILE 指定一个中文TTF/OTF/TTC字体文件")
        self.path = path


def _face_index(path: Path) -> int:
    """In a collection, the index of the Simplified Chinese face; 0 for anything else."""
    if path.suffix.lower() not in (".ttc", ".otc"):
        return 0
    names = [str(face["name"].getDebugName(1) or "") for face in TTCollection(str(path), lazy=True).fonts]
    for wanted in (" CJK SC", " SC"):
        for index, name in enumerate(names):
            if name.endswith(wanted) and "Mono" not in name:
                return index
    return 0


def subset_font(path: Path, text: str, out: Path) -> None:
    """The face of ``path`` cut down to the glyphs of ``text``, with TrueType outlines, written to ``out``."""
    font = TTFont(str(path), fontNumber=_face_index(path))
    options = Options()
    options.layout_features = []
    options.desubroutinize = True
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.hinting = False
    subsetter = Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    if "CFF " in font:
        order = font.getGlyphOrder()
        glyph_set = font.getGlyphSet()
        glyf = newTable("glyf")
        glyf.glyphOrder = order
        glyf.glyphs = {}
        for name in order:
            pen = TTGlyphPen(None)
            glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
            glyf[name] = pen.glyph()
        font["glyf"] = glyf
        font["loca"] = newTable("loca")
        for tag in ("CFF ", "VORG"):
            if tag in font:
                del font[tag]
        maxp = font["maxp"]
        maxp.tableVersion = 0x00010000
        for attr in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                     "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
            setattr(maxp, attr, 0)
        maxp.maxZones = 1
        font["head"].glyphDataFormat = 0
        font["post"].formatType = 3.0
        font.sfntVersion = "\x00\x01\x00\x00"
    font.save(str(out))


@dataclass(frozen=True)
class _Block:
    text: str
    size: float = 10.5
    height: float = 6.2
    indent: float = 0
    gap: float = 0
    kind: str = "para"  # para | title | heading | space


@dataclass
class _Layout:
    blocks: list[_Block] = field(default_factory=list)

    def add(self, text: str, **options: float | str) -> None:
        self.blocks.append(_Block(text, **options))  # type: ignore[arg-type]


def _layout(letter: Letter) -> _Layout:
    out = _Layout()
    out.add(letter.title, kind="title", size=17, height=12)
    facts = [f"受理编号：{letter.case_number}", f"办结日期：{letter.closed_on}"]
    if letter.deceased:
        facts.append(f"逝者：{letter.deceased}")
    out.add("　　".join(facts), size=10)
    if letter.payee_card:
        out.add(f"收款账户：{letter.payee_card}", size=10)
    out.add(letter.intro, gap=1)

    out.add("一、已办理的事项", kind="heading")
    for number, line in enumerate(letter.done, 1):
        out.add(f"{number}. {line.matter}（{line.department}）：{line.outcome}"
                + (f"；证明编号：{line.certificate_no}" if line.certificate_no else ""))

    out.add("二、已发放的款项", kind="heading")
    for number, payment in enumerate(letter.paid, 1):
        out.add(f"{number}. {payment.matter}（{payment.department}）")
        out.add(f"实发金额：{payment.amount}　发放流水号：{payment.reference}"
                + (f"　到账日期：{payment.paid_on}" if payment.paid_on else ""), indent=5)
    out.add(f"合计实发：{letter.total_paid}（均发放至上述收款账户）" if letter.paid else "本案无发放给家属的款项。")
    for owed in letter.to_return:
        out.add(f"{owed.matter}：逝者身故后多领的待遇抵扣后，需退回{owed.amount}，请按部门通知办理。")

    out.add("三、未办理的事项", kind="heading")
    for number, refused in enumerate(letter.not_done, 1):
        out.add(f"{number}. {refused.matter}（{refused.department}）：{refused.outcome}"
                + (f"；原因：{refused.reason}" if refused.reason else ""))
    if not letter.not_done:
        out.add("无。")

    out.add("四、仍需继承人自行办理的事项", kind="heading")
    out.add(letter.notice, size=9.5, gap=1)
    for number, item in enumerate(letter.remaining, 1):
        out.add(f"（{number}）{item.title}", size=11)
        out.add(f"办理地点：{item.where}", indent=5)
        out.add("所需材料：", indent=5)
        for material in item.materials:
            out.add(f"·{material}", indent=9)
        out.add("办理规则：", indent=5)
        for rule in item.rules:
            out.add(f"·{rule}", indent=9, gap=0)
        out.add("", kind="space", height=1.5)
    if letter.contact:
        out.add(letter.contact, gap=0)
    return out


class _Page(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(_FONT, size=8)
        self.set_text_color(110)
        self.cell(0, 6, f"{self.footer_text}　第{self.page_no()}页", align="C")
        self.set_text_color(0)


def render_pdf(letter: Letter, font_file: Path = DEFAULT_FONT_FILE) -> bytes:
    if not font_file.is_file():
        raise LetterFontMissing(font_file)
    layout = _layout(letter)
    footer = f"受理编号{letter.case_number}"
    text = "".join(block.text for block in layout.blocks) + footer + "　第页" + string.printable
    pdf = _Page(format="A4")
    pdf.footer_text = footer
    pdf.set_title(letter.title)
    pdf.set_creator("shenhou")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=20)
    with tempfile.TemporaryDirectory(prefix="shenhou-letter-") as folder:
        subset = Path(folder) / "letter-font.ttf"
        try:
            subset_font(font_file, text, subset)
            pdf.add_font(_FONT, fname=str(subset))
        except (OSError, TTLibError, ValueError, KeyError) as err:
            raise LetterFontMissing(font_file) from err
        pdf.add_page()
        for block in layout.blocks:
            _draw(pdf, block)
        return bytes(pdf.output())


def _draw(pdf: FPDF, block: _Block) -> None:
    if block.kind == "space":
        pdf.ln(block.height)
        return
    if block.kind == "heading":
        pdf.ln(2)
        pdf.set_font(_FONT, size=12.5)
        pdf.multi_cell(0, 8, block.text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_draw_color(180)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(1.5)
        return
    pdf.set_font(_FONT, size=block.size)
    if block.kind == "title":
        pdf.cell(0, block.height, block.text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
        return
    pdf.set_x(pdf.l_margin + block.indent)
    lines = _wrapped(pdf, block)
    # A paragraph is kept on one page: no lone line at the top of the next.
    if pdf.get_y() + len(lines) * block.height > pdf.page_break_trigger:
        pdf.add_page()
        pdf.set_x(pdf.l_margin + block.indent)
    pdf.multi_cell(0, block.height, "\n".join(lines), wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN,
                   new_y=YPos.NEXT)
    if block.gap:
        pdf.ln(block.gap)


# Chinese line breaking (禁则): these never begin a line.
_NO_LINE_START = frozenset("。，、；：）》」』”’！？…%")


def _wrapped(pdf: FPDF, block: _Block) -> list[str]:
    """The block's lines as fpdf2 wraps them, with a closing mark that would begin a line taken onto the line
    before together with that line's last character."""
    wrapped = pdf.multi_cell(0, block.height, block.text, wrapmode=WrapMode.CHAR, dry_run=True, output="LINES")
    assert isinstance(wrapped, list)
    lines = [str(line) for line in wrapped]
    for index in range(1, len(lines)):
        if lines[index][:1] in _NO_LINE_START and len(lines[index - 1]) > 1:
            lines[index - 1], lines[index] = lines[index - 1][:-1], lines[index - 1][-1] + lines[index]
    return lines
