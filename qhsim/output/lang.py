"""Languages of analyst-facing text 中文与英文: every label is shown in Chinese, English or both (``lang``)."""

from __future__ import annotations


def in_language(zh: str, en: str, lang: str = "both", sep: str = " ") -> str:
    """``zh``, ``en`` or both joined by ``sep`` (``lang``: both, zh or en)."""
    return {"both": f"{zh}{sep}{en}", "zh": zh, "en": en}[lang]


def pick(text: str, lang: str = "both") -> str:
    """One language of a bilingual ``"中文 English"`` phrase (split at the first space)."""
    if lang == "both" or " " not in text:
        return text
    zh, en = text.split(" ", 1)
    return zh if lang == "zh" else en
