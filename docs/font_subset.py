"""Make the Chinese chart font shipped with qhsim (qhsim/output/fonts/): a subset of Noto Sans CJK SC.

Noto Sans CJK (SIL Open Font License 1.1, licence text next to the font) comes from Debian's
``fonts-noto-cjk``. The subset keeps ASCII, Latin-1, general and CJK punctuation, full-width forms, the
3,755 most common hanzi (GB2312 level 1) and every character that qhsim's own files use, so charts render
every label on a machine without Chinese fonts. Re-run after adding labels with rare characters:

    apt-get install -y fonts-noto-cjk && .venv/bin/python docs/font_subset.py
"""

from __future__ import annotations

from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection
from qhsim.cli import run_script
from qhsim.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FAMILY = "Noto Sans CJK SC"
TARGET = ROOT / "qhsim" / "output" / "fonts" / "NotoSansSC-qhsim-subset.otf"


def gb2312_level1() -> str:
    chars = []
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return "".join(chars)


def project_characters() -> str:
    files = [p for pattern in ("qhsim/**/*.py", "qhsim/**/*.toml", "qhsim/**/*.j2", "scenarios/*.toml",
                               "experiments/*.toml", "calibration/*.toml") for p in ROOT.glob(pattern)]
    return "".join({c for p in files for c in p.read_text(encoding="utf-8") if ord(c) > 0x7F})


def main() -> None:
    if not SOURCE.is_file():
        raise InputError(f"{SOURCE}: font file not found (apt-get install -y fonts-noto-cjk)")
    collection = TTCollection(str(SOURCE))
    font = next(f for f in collection.fonts if f["name"].getDebugName(1) == FAMILY)
    ranges = [range(0x20, 0x7F), range(0xA0, 0x180), range(0x2000, 0x2070), range(0x2100, 0x2200),
              range(0x3000, 0x3040), range(0xFF00, 0xFFF0)]
    codepoints = {c for r in ranges for c in r} | {ord(c) for c in gb2312_level1() + project_characters()}
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.hinting = False
    options.desubroutinize = False
    sub = subset.Subsetter(options)
    sub.populate(unicodes=sorted(codepoints))
    sub.subset(font)
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(TARGET))
    print(f"{TARGET}: {len(codepoints)} code points, {TARGET.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    run_script(main)
