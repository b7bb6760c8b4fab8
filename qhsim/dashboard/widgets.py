"""The dashboard's number field 数字输入框: messages in the page's language, a rejected value marked invalid.

Solara's ``InputFloat``/``InputInt`` say "Value must be a number" in English inside the label, keep a rejected
value on screen as if it were in use, and re-sync their text on every render (a render while the analyst is
typing, e.g. when a run finishes, can put the old value back). ``NumberInput`` takes a value on Enter or when the
field loses focus, shows a rejected one in red with why and the value still in use, and shows a new value only
when it changes elsewhere (reset, another starting scenario, the same lever in the other panel).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import solara
from solara.components.input import use_change

from qhsim.dashboard import i18n

Reason = tuple[str, str]  # why a value was refused: (Chinese, English)


def shown(value) -> str:
    """A number as the field shows it (whole floats without a trailing ".0" stay floats: 1.0)."""
    return "" if value is None else str(value)


def parse(text: str, integer: bool) -> int | float | Reason:
    """The typed number, or why it is not one. Commas (also the full-width "，") are thousands separators, as the
    dashboard shows budgets ("15,000" is fifteen thousand, never 15.0); the decimal mark is the point."""
    cleaned = text.strip().replace("，", "").replace(",", "")
    try:
        number = int(cleaned) if integer else float(cleaned)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):  # "nan" and "inf" parse as floats, but are no number to set or compare with
        return i18n.TEXT["not_a_whole_number" if integer else "not_a_number"]
    return number


@solara.component
def NumberInput(label: str, value, on_value: Callable[[float], Reason | None], lang: str, integer: bool = False,
                style: dict | None = None, classes: list[str] | None = None, text: Callable[[object], str] = shown,
                suffix: str = ""):
    """A number field; ``on_value(number)`` returns None when the number was taken, else why not (the field then
    turns red with that reason and the value still in use). ``text`` writes the value in the field (a lever's with
    thousands separators, ``levers.number_text``; a seed or a year as it is); ``parse`` reads it back. ``suffix`` is
    shown after the text in the field (a share lever's per cent, "= 100%")."""
    typed, set_typed = solara.use_state(text(value))
    error, set_error = solara.use_state(None)

    def external() -> None:  # the value changed elsewhere: show it
        set_typed(text(value))
        set_error(None)

    solara.use_effect(external, [value])

    def commit(entered: str) -> None:
        set_typed(entered)
        number = parse(entered or "", integer)
        if isinstance(number, tuple):
            set_error(number)
            return
        if number == value and error is None:
            return
        set_error(on_value(number))

    messages = [f"{i18n.pick(error, lang)}（{i18n.TEXT['not_applied'][0]} {text(value)}）" if lang == "zh" else
                f"{i18n.pick(error, lang)} ({i18n.TEXT['not_applied'][1]} {text(value)})"] if error else []
    field = solara.v.TextField(v_model=typed, label=label, error=bool(error), error_messages=messages,
                               hide_details="auto", style_=solara.util._flatten_style(style), suffix=suffix,
                               class_=" ".join(["qh-number", *(classes or [])]))
    use_change(field, commit)
    return field
