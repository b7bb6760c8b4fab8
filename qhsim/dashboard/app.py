"""The qhsim dashboard 仪表盘 (Solara app): levers, runs, indicators against targets, prefectures, design
comparison, experiments, inside the model, exports. Start it with ``qhsim dashboard``.

State lives in Solara reactive variables, which are scoped to one browser session; runs execute in a
background thread per session (``use_task``), with progress and cancel, and finished runs are shared
through the server-wide cache of ``qhsim.dashboard.runs``.
"""

from __future__ import annotations

import math

import solara
from solara.lab import use_task

from qhsim.dashboard import compare, i18n, pages, runs
from qhsim.dashboard import levers as lv
from qhsim.dashboard.figures import headline
from qhsim.dashboard.pages import PAGES
from qhsim.dashboard.runs import Cancelled, DashboardRun, with_reference
from qhsim.dashboard.state import Session, max_draws, parse_seeds, shipped_scenarios
from qhsim.dashboard.widgets import NumberInput, TextInput
from qhsim.errors import InputError
from qhsim.experiments.comparison import RANK_DEFAULT, RANK_TOTAL
from qhsim.output.numbers import format_interval, format_value
from qhsim.output.report import n_draws

# the ensemble's default parameter sets: 9 of the shipped 120 (8 level samples around each of 15 re-fitted draws)
# reach 7 different draws, each set standing for at most 11% of the weight (calibration/README.md, "Parameter draws")
ENSEMBLE_DRAWS = 9

lang = solara.reactive("zh")
session = solara.reactive(None)  # Session, created on first render of each browser session
shown = solara.reactive(None)  # (DashboardRun, came from the cache, baseline DashboardRun or None) of the last run
page = solara.reactive("indicators")
message = solara.reactive(None)  # (Chinese, English) of the last input error, shown until the next successful action
notice = solara.reactive(None)  # (Chinese, English) of what switching the starting scenario kept or removed
auto_run = solara.reactive(False)  # run as soon as a lever or a run setting changes
KEY_LEVERS = ("policy.super_deduction.general", "policy.super_deduction.manufacturing")  # also in the left panel


def _session() -> Session:
    if session.value is None:
        session.value = Session.start("baseline.toml")
    return session.value


def edit(fn) -> tuple[str, str] | None:
    """Apply ``fn(session) -> session``; an input error is shown instead of raised, and returned as (Chinese,
    English) for the field that caused it (None when the edit was taken)."""
    notice.value = None  # the last switch's note, until the next edit
    try:
        session.value = fn(_session())
    except InputError as exc:
        message.value = (i18n.message(exc, "zh"), i18n.message(exc, "en"))
        return message.value
    message.value = None
    return None


def switch(name: str) -> None:
    """Start from another shipped scenario, keeping the run type and the designs that still apply (``Session.switch``)."""
    def start(s: Session) -> Session:
        new, notice.value = s.switch(name)
        return new

    edit(start)


@solara.component
def LanguageToggle():
    solara.Button(i18n.text("language", lang.value), text=True, classes=["qh-lang"],
                  on_click=lambda: lang.set("en" if lang.value == "zh" else "zh"))


@solara.component
def RunPanel(ctx):
    s, L, task = ctx.session, ctx.lang, ctx.task
    solara.Select(i18n.text("start_from", L), values=shipped_scenarios(), value=s.base_name
                  if s.base_name in shipped_scenarios() else None, on_value=switch)
    mode = "ensemble" if s.draws else "single"
    # the scale stays as set (1 by default) in either mode: scale 0.25 is not faithful to scale 1 (the HTE count
    # 12-17% lower, docs/ODD.md "Precision")
    with solara.ToggleButtonsSingle(value=mode, on_value=lambda m: edit(
            lambda x: x.with_run(draws=0 if m == "single" else min(ENSEMBLE_DRAWS, max_draws())))):
        solara.Button(i18n.text("single", L), value="single", text=True, classes=["qh-single"])
        solara.Button(i18n.text("ensemble", L), value="ensemble", text=True, classes=["qh-ensemble"])
    NumberInput(i18n.text("scale", L), s.scale, lambda v: edit(lambda x: x.with_run(scale=v)), L)
    if s.draws:
        with solara.Column(gap="0px").key("ensemble-settings"):
            solara.Text(i18n.text("ensemble_help", L), style={"font-size": "12px", "color": "#555"})
            NumberInput(i18n.text("draws", L), s.draws, integer=True, lang=L,
                        on_value=lambda v: edit(lambda x: x.with_run(draws=max(1, min(v, max_draws())))))
            TextInput(i18n.text("seeds", L), value=",".join(map(str, s.seeds)),
                      on_value=lambda t: edit(lambda x: x.with_run(seeds=parse_seeds(t))))
    else:
        with solara.Column(gap="0px").key("single-settings"):
            NumberInput(i18n.text("seed", L), s.seed, lambda v: edit(lambda x: x.with_run(seed=v)), L, integer=True)
    with solara.Row():
        solara.Button(i18n.text("run", L), color="primary", on_click=lambda: task(),
                      disabled=task.pending or s.problem is not None, classes=["qh-run"])
        solara.Button(i18n.text("cancel", L), on_click=task.cancel, disabled=not task.pending, classes=["qh-cancel"])
    with solara.Column(gap="0px"):  # one child whatever the state, so the widgets below keep theirs
        if task.pending:
            solara.ProgressLinear(task.progress if task.progress is not None else True)
            solara.Text(f"{i18n.text('running', L)} {task.progress or 0:.0f}%", classes=["qh-progress"])
        elif task.cancelled:
            solara.Warning(i18n.text("cancelled", L))
        elif task.error and not isinstance(task.exception, Cancelled):
            solara.Error(f"{i18n.text('error', L)}: {i18n.message(task.exception, L)}", classes=["qh-run-error"])
    Headline(ctx.stale)
    with solara.Column(gap="4px").key("key-levers"):
        solara.Markdown(f"**{i18n.text('key_levers', L)}**")
        for path in KEY_LEVERS:
            pages.LeverRow(ctx, lv.levers()[path], compact=True).key(f"key-{path}")
        solara.Checkbox(label=i18n.text("auto_run", L), value=auto_run)


HEADLINE = "rd_intensity"
MAKE_BASELINE_SEEDS = 8  # `make baseline` runs seeds 1..8 (Makefile) and prints their median
NOWRAP = {"white-space": "nowrap"}


def headline_basis(runs: int, seed: int, lang: str) -> str:
    """What the headline's numbers are, in ``lang``: one run with its seed (not the median of `make baseline`'s seeds,
    which an analyst compares it with), or the median and band of an ensemble's runs."""
    if runs > 1:
        return i18n.text("median_of", lang).format(runs=runs)
    return i18n.text("one_run", lang).format(seed=seed, n=MAKE_BASELINE_SEEDS)


@solara.component
def Headline(stale: bool):
    """R&D intensity in 2025 (against its target) and 2035: the number an analyst watches while moving levers,
    formatted by its unit as the tables are (``format_value``); marked when the levers changed since."""
    L = lang.value
    if shown.value is None:
        solara.Text(i18n.text("no_run", L), classes=["qh-headline-empty"])
        return
    run, from_cache, _ = shown.value
    unit = i18n.unit_of(HEADLINE, L)
    with solara.Card(style={"padding": "8px", "opacity": "0.6" if stale else "1"}, classes=["qh-headline-card"]):
        solara.Text(i18n.indicator(HEADLINE, L), style={"font-size": "13px"})
        for year in (2025, 2035):
            h = headline(run.result.indicators, key=HEADLINE, year=year)
            text = (format_interval(h["value"], h["lo"], h["hi"], key=HEADLINE) if h["runs"] > 1
                    else format_value(h["value"], HEADLINE))
            # the value and its band on one line ("0.80 [0.76, 0.83]" broke after "0.80 [0.76,"); the target moves below
            with solara.Row(style={"align-items": "baseline", "gap": "0 6px", "flex-wrap": "wrap"}):
                solara.Text(f"{year}:", style={"font-weight": "bold"})
                solara.Text(text, classes=[f"qh-headline-{year}"],
                            style={"font-size": "18px", "font-weight": "bold", **NOWRAP})
                if not math.isnan(h["target"]):
                    extra = f"{i18n.text('target', L)} {format_value(h['target'], HEADLINE)}{unit}"
                    if h["runs"] > 1 and not math.isnan(h["p_met"]):
                        extra += f" · {i18n.text('p_met', L)} {h['p_met']:.0%}"
                    solara.Text(extra, style={"font-size": "12px"})
        runs = n_draws(run.result.indicators)
        solara.Text(headline_basis(runs, run.request.seed, L), classes=["qh-headline-basis"],
                    style={"font-size": "12px", "color": "#444", "display": "block"})
        if runs > 1:
            solara.Text(i18n.text("band_lower_bound", L), classes=["qh-band-hint"],
                        style={"font-size": "12px", "color": "#8a4b00", "display": "block"})
        note = i18n.text("from_cache", L) if from_cache else f"{run.seconds:.1f} {i18n.text('seconds', L)}"
        solara.Text(f"{run.request.name(L)} · {note} · {run.key[:8]}",
                    style={"font-size": "12px", "color": "#666"}, classes=["qh-headline"])
        if stale:
            solara.Text(i18n.text("stale", L), classes=["qh-headline-stale"],
                        style={"font-size": "12px", "color": "#8a4b00", "display": "block"})


@solara.component
def Page():
    s, L = _session(), lang.value

    def simulate() -> DashboardRun:
        s = _session()  # the session now, not as it was when this function was made
        req = s.request(lang.value)

        def progress(p: float) -> None:
            task.progress = 100.0 * p

        hit = runs.CACHE.get(req.key()) is not None
        done, reference = with_reference(req, s.base_request(lang.value), progress,
                                         cancelled=lambda: not task.is_current())
        shown.value = (done, hit, reference)  # one update: the page never shows a new flag with an old run
        return done

    task = use_task(simulate, dependencies=None, raise_error=False)  # an error shows in RunPanel's box

    def compare_designs() -> str:
        def progress(p: float) -> None:
            compare_task.progress = 100.0 * p

        k, result = compare.run_comparison(_session(), pages.budget_neutral.value, progress,
                                           cancelled=lambda: not compare_task.is_current(),
                                           rank_by=RANK_TOTAL if pages.rank_total.value else RANK_DEFAULT)
        pages.last_compare.value = (k, result)
        return k

    compare_task = use_task(compare_designs, dependencies=None, raise_error=False)  # shown in ComparePage's box
    ctx = Context(s, L, *(shown.value[::2] if shown.value else (None, None)), edit, task, compare_task)

    def auto() -> None:
        if auto_run.value and s.problem is None and (shown.value is None or ctx.stale):
            task()

    solara.use_effect(auto, dependencies=[auto_run.value, s.changes, s.scale, s.seed, s.draws, s.seeds, s.base_name])
    solara.Title(i18n.text("title", L))
    with solara.AppBar():
        LanguageToggle()
    solara.AppBarTitle(i18n.text("title", L))
    with solara.Row(style={"align-items": "flex-start", "gap": "16px"}):
        with solara.Column(style={"width": "330px", "min-width": "330px"}):
            RunPanel(ctx)
        with solara.Column(style={"flex": "1", "min-width": "0"}):
            if message.value:
                solara.Error(i18n.pick(message.value, L), classes=["qh-message"])
            if notice.value:
                solara.Warning(i18n.pick(notice.value, L), classes=["qh-notice"])
            if s.problem:  # levers that make no scenario (tier lists of different lengths): nothing runs until fixed
                solara.Warning(i18n.pick(s.problem, L), classes=["qh-problem"])
            with solara.ToggleButtonsSingle(value=page.value, on_value=page.set, style=pages.WRAP_BUTTONS):
                for k in PAGES:
                    solara.Button(i18n.text(f"page_{k}", L), value=k, text=True, classes=[f"qh-page-{k}"])
            with solara.Column(classes=[f"qh-view-{page.value}"]):
                PAGES[page.value](ctx=ctx)


class Context:
    """What a page needs: the session, the language, the last run and the baseline run beside it (None when the run is
    the baseline: ``runs.with_reference``), the edit function and the two tasks; ``stale``
    when the run shown is not the one the current levers and run settings ask for (they changed since)."""

    def __init__(self, s: Session, lang_: str, run: DashboardRun | None, reference: DashboardRun | None, edit_, task,
                 compare_task):
        self.session, self.lang, self.run, self.reference, self.edit = s, lang_, run, reference, edit_
        self.task, self.compare_task = task, compare_task
        # levers that make no scenario (``Session.problem``) have no run of their own: the one shown is out of date
        self.stale = run is not None and (s.problem is not None or run.key != s.request().key())
