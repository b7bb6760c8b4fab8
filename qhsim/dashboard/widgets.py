"""The dashboard's text and number fields 文本与数字输入框: a typed value is never put back by a render, numbers
say why they are refused in the page's language.

Solara's ``InputText``/``InputFloat``/``InputInt`` pass the field's text as a render prop, and reacton sets every prop
of a widget on every render: a render after the analyst typed and before Enter (a run finishing while they type, or,
under load, in the moment between the browser's sending of the text and of Enter) put the old text back, and Enter
then took nothing: the value silently lost. Here the text is written into the field only when the field is new or its
value changes elsewhere (reset, another starting scenario, the same lever in the other panel): ``use_typed_text``.
``TextInput`` is such a text field; ``NumberInput`` also marks a refused number in red with why and the value still
in use, where ``InputFloat`` says "Value must be a number" in English inside the label and keeps the refused value on
screen as if it were in use.
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


def use_typed_text(field, text: str, on_text: Callable[[str], object]) -> None:
    """The text of ``field`` (a ``v.TextField`` element made without ``v_model``): ``text`` written into it when the
    field is new or ``text`` changes, never on another render; ``on_text(typed)`` on Enter or when it loses focus, with
    the text as the browser last sent it."""
    def show() -> None:
        solara.get_widget(field).v_model = text

    solara.use_effect(show, [text])
    use_change(field, lambda typed: on_text(typed or ""))


@solara.component
def TextInput(label: str, value: str | solara.Reactive[str], on_value: Callable[[str], object] | None = None,
              style: dict | None = None, placeholder: str = ""):
    """A text field (a name, a path, seeds, a list lever's values): ``on_value(text)``, or the reactive ``value`` set,
    on Enter or when the field loses focus, as Solara's ``InputText`` does, but the typed text kept (above)."""
    current = solara.use_reactive(value, on_value)
    field = solara.v.TextField(label=label, placeholder=placeholder, hide_details="auto",
                               style_=solara.util._flatten_style(style))
    use_typed_text(field, current.value, current.set)
    return field


@solara.component
def NumberInput(label: str, value, on_value: Callable[[float], Reason | None], lang: str, integer: bool = False,
                style: dict | None = None, classes: list[str] | None = None, text: Callable[[object], str] = shown,
                suffix: str = ""):
    """A number field; ``on_value(number)`` returns None when the number was taken, else why not (the field then
    turns red with that reason and the value still in use). ``text`` writes the value in the field (a lever's with
    thousands separators, ``levers.number_text``; a seed or a year as it is); ``parse`` reads it back. ``suffix`` is
    shown after the text in the field (a share lever's per cent, "= 100%")."""
    error, set_error = solara.use_state(None)
    solara.use_effect(lambda: set_error(None), [value])  # a value from elsewhere replaces the refused one

    def commit(entered: str) -> None:
        number = parse(entered, integer)
        if isinstance(number, tuple):
            set_error(number)
            return
        if number == value and error is None:
            return
        set_error(on_value(number))

    messages = [f"{i18n.pick(error, lang)}（{i18n.TEXT['not_applied'][0]} {text(value)}）" if lang == "zh" else
                f"{i18n.pick(error, lang)} ({i18n.TEXT['not_applied'][1]} {text(value)})"] if error else []
    field = solara.v.TextField(label=label, error=bool(error), error_messages=messages,
                               hide_details="auto", style_=solara.util._flatten_style(style), suffix=suffix,
                               class_=" ".join(["qh-number", *(classes or [])]))
    use_typed_text(field, text(value), commit)
    return field
