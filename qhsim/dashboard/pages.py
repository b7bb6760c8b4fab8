"""The dashboard's pages 页面. Each takes a ``Context`` (session, language, last run, edit, run task)."""

from __future__ import annotations

import re

import pandas as pd
import solara

from qhsim.dashboard import figures, i18n
from qhsim.dashboard import levers as lv
from qhsim.dashboard import compare, explore, exports, tables
from qhsim.dashboard.state import MAX_DESIGNS, Session
from qhsim.dashboard.widgets import NumberInput, TextInput
from qhsim.errors import InputError
from qhsim.experiments.comparison import RANK_DEFAULT, RANK_TOTAL
from qhsim.experiments.report import ranking_caveat
from qhsim.output.report import (band_caveat, base_year_notes, n_draws, persistence_note, prefecture_anchor_note,
                                 reduced_scale_note, source_notes)
from qhsim.results import PROVINCE
from qhsim.targets import load_targets

PLAN_INDICATORS = tuple(dict.fromkeys(load_targets()["indicator"]))  # indicators with a plan target, in order
group_key = solara.reactive("tax")
indicator_key = solara.reactive("rd_intensity")
inside_year = solara.reactive(2025)
save_name = solara.reactive("")  # empty: the run's name in the page's language (``Session.name``)
path_text = solara.reactive("")
design_name = solara.reactive("")  # empty: "design N" in the page's language
budget_neutral = solara.reactive(False)
rank_total = solara.reactive(False)  # rank designs by total R&D per public yuan instead of business R&D
last_compare = solara.reactive(None)  # (key, ComparisonResult) of this session's last comparison
store_path = solara.reactive("")
store = solara.reactive(None)  # explore.Store opened on the Experiments page
store_error = solara.reactive(None)  # (Chinese, English)
sweep_year = solara.reactive(None)  # None: the sweep's last year
sweep_threshold = solara.reactive(None)  # (indicator, year, threshold) typed for that indicator and year
prefecture_year = solara.reactive(None)  # None: the last target year of the run's prefecture targets
sweep_probability = solara.reactive(0.8)


@solara.component
def Chart(build, dependencies: list):
    """The figure ``build()`` makes, as a PNG image rendered once per change of ``dependencies``."""
    image = solara.use_memo(lambda: figures.png(build()), dependencies=dependencies)
    solara.Image(image, classes=["qh-chart"])


# cells on one line (headers wrap, but for short ones: ``table_headers``), half Vuetify's side padding; wide tables scroll
TABLE_CSS = (".qh-table td, .qh-table th.qh-nowrap { white-space: nowrap; } "
             ".qh-table td, .qh-table th { padding-left: 6px !important; padding-right: 6px !important; }")
# a prose column (``Table(wrap=...)``, e.g. an indicator's name or an observed value's source) wraps in a narrow band
# instead, so that the numbers stay in view at 1366 px; by position, as the table's class qh-wrap-<j> (0-based column j)
WRAP_CSS = ".qh-wrap-{j} td:nth-child({n}) {{ white-space: normal; min-width: 110px; max-width: 170px; font-size: 12px; }}"


@solara.component
def Table(frame: pd.DataFrame, items_per_page: int = 20, classes: list[str] | None = None,
          wrap: tuple[str, ...] = ()):
    """A result table of ``qhsim.dashboard.tables`` (formatted text): no index column, numbers right-aligned,
    no sorting (text would sort as text), pages only when it has more rows than ``items_per_page``; the columns
    named in ``wrap`` (prose, e.g. an observed value's source) wrap so that the numbers stay in view."""
    columns = [str(c) for c in frame.columns]
    rows = frame.astype(str).to_numpy().tolist()
    numeric = [bool(rows) and all(tables.is_numeric_text(r[j]) for r in rows) for j in range(len(columns))]
    headers = table_headers(columns, numeric)
    items = [{f"c{j}": text for j, text in enumerate(row)} for row in rows]
    wrapped = [j for j, c in enumerate(columns) if c in wrap]
    solara.Style(" ".join([TABLE_CSS, *(WRAP_CSS.format(j=j, n=j + 1) for j in wrapped)]))
    solara.v.DataTable(headers=headers, items=items, items_per_page=items_per_page, dense=True,
                       hide_default_footer=len(items) <= items_per_page, disable_sort=True,
                       class_=" ".join(["qh-table", *(classes or []), *(f"qh-wrap-{j}" for j in wrapped)]))


SHORT_HEADER = 6  # characters: a header this short stays on one line ("排名" stood one character per line)


def table_headers(columns: list[str], numeric: list[bool]) -> list[dict]:
    """Vuetify's headers of ``Table``: not sortable, numbers right-aligned, a short header on one line (class
    qh-nowrap) so that its narrow column does not stack it character by character."""
    return [{"text": c, "value": f"c{j}", "sortable": False, "align": "end" if numeric[j] else "start",
             "class": "qh-nowrap" if len(c) <= SHORT_HEADER else ""} for j, c in enumerate(columns)]


def target_wrap(lang: str) -> tuple[str, str]:
    """The prose columns of a target table, which wrap: the indicator's name and the observed value's source."""
    return tables.header("label", lang), tables.header("observed_source", lang)


# a row of toggle buttons wraps to a second line instead of running off a laptop's window (at 1366 px the English lever
# groups ended at "TALENT PROGRAMME", the technology market and platforms out of sight)
WRAP_BUTTONS = {"flex-wrap": "wrap", "max-width": "100%", "height": "auto"}


@solara.component
def LeverRow(ctx, lever: lv.Lever, compact: bool = False):
    """One lever: its input (label and unit in the chosen language), baseline value, allowed range and the
    year from which it applies; highlighted when changed. ``compact`` for the left panel. Numbers show as the
    tables write them (15,000, never 15000.0 or 1e+07: ``levers.number_text``), a share with its per cent beside it
    (in the field "= 100%", in the note "1 (100%)": ``Lever.percent``), options by their labels."""
    s, L = ctx.session, ctx.lang
    path = lever.path
    value, year = s.value(path), s.from_year(path)
    base = lv.current_value(s.base, path, year)
    changed = s.change(path) is not None
    unit = lever.unit_label(L)
    label = lever.label(L) + (f" ({unit})" if unit else "")
    set_value = lambda v: ctx.edit(lambda x: x.with_lever(path, v))  # noqa: E731 - returns why a value was refused
    note = {"font-size": "12px", "color": "#555"}
    with solara.Row(style={"align-items": "center", "gap": "6px" if compact else "12px", "flex-wrap": "wrap",
                           "background": "#fff7e0" if changed else "transparent"}, classes=["qh-lever"]):
        d = lever.domain
        style = {"width": "300px"} if compact else {"min-width": "320px", "max-width": "420px"}
        if d.kind in ("number", "integer"):
            NumberInput(label, value, set_value, L, integer=d.kind == "integer", style=style, text=lv.number_text,
                        suffix=f"= {lever.percent(value)}" if lever.share else "")  # 1 = 100%
        elif d.kind in ("choice", "subset"):
            OptionSelect(label, list(d.options), value, set_value, L, multiple=d.kind == "subset", style=style)
        else:
            TextInput(label, value=lever.value_text(value, L), style=style,
                      on_value=lambda t: ctx.edit(lambda x: x.with_lever(path, lv.parse_list(lever, t))))
        if lever.scheduled:
            NumberInput(i18n.text("from_year", L), year, lambda y: ctx.edit(lambda x: x.with_lever(path, None, y)), L,
                        integer=True, style={"max-width": "90px" if compact else "110px"})
        else:
            solara.Text(i18n.text("all_years", L), style=note)
        years = "" if not lever.scheduled else " · {}: {}–{}".format(i18n.text("from_year", L), *s.change_years)
        solara.Text(f"{i18n.text('baseline_value', L)}: {lever.shown(base, L)} · {i18n.text('allowed', L)}: "
                    f"{lever.range_text(L)}{years}", style=note, classes=["qh-lever-note"])


@solara.component
def OptionSelect(label: str, options: list[str], value, on_value, lang: str, multiple: bool = False,
                 style: dict | None = None):
    """A choice (one option) or subset (several) lever: each option by its label in ``lang`` (``i18n.option``: 择优,
    海西州), the schema's code as the value; a subset left empty is refused by ``levers.check_value``."""
    items = [{"text": i18n.option(o, lang), "value": o} for o in options]
    refusals, set_refusals = solara.use_state(0)

    def pick(v) -> None:
        if on_value(list(v or []) if multiple else v) is not None:  # refused (e.g. nothing left chosen): show the
            set_refusals(lambda n: n + 1)  # value still in use again, not the selection that was refused

    solara.v.Select(label=label, items=items, v_model=list(value) if multiple else value, multiple=multiple,
                    chips=multiple, small_chips=multiple, hide_details=True, on_v_model=pick,
                    style_=solara.util._flatten_style(style), class_="qh-option").key(f"select-{refusals}")


@solara.component
def LeversPage(ctx):
    s, L = ctx.session, ctx.lang
    with solara.Row(style={"gap": "12px", "align-items": "center", "flex-wrap": "wrap"}):
        TextInput(i18n.text("open_file", L), value=path_text, style={"min-width": "360px"})
        solara.Button(i18n.text("open", L), on_click=lambda: ctx.edit(lambda _: Session.start(path_text.value)))
        with solara.Column(style={"min-width": "260px"}, classes=["qh-upload"]):  # Solara's FileDrop takes drops only
            solara.FileDrop(label=i18n.text("upload", L), lazy=False,
                            on_file=lambda f: ctx.edit(lambda _: Session.start(f["data"], name=f["name"])))
    with solara.Row(style={"gap": "12px", "align-items": "center", "flex-wrap": "wrap"}):
        solara.Text(f"{i18n.text('start_from', L)}: {s.base_name} · {i18n.text('changed', L)}: {len(s.changes)}",
                    classes=["qh-changes"])
        solara.Button(i18n.text("reset", L), on_click=lambda: ctx.edit(Session.reset), text=True)
        TextInput(i18n.text("save_name", L), value=save_name, style={"max-width": "220px"},
                  placeholder=s.name(L))
        if s.problem:  # levers that make no scenario: nothing to save until fixed (the warning above says why)
            solara.Button(i18n.text("save", L), disabled=True, icon_name="mdi-cloud-download-outline")
        else:
            solara.FileDownload(lambda: s.toml(save_name.value, L).encode("utf-8"),
                                filename=f"{file_stem(save_name.value or s.name(L))}.toml", label=i18n.text("save", L),
                                mime_type="application/toml")
    with solara.Column(gap="2px"):  # one child whatever the number of changes, so the rows below keep their state
        for line in lv.describe(list(s.changes), L):
            solara.Text(line, style={"font-size": "13px"})
    groups = lv.groups()
    with solara.ToggleButtonsSingle(value=group_key, style=WRAP_BUTTONS):
        for g in groups:
            solara.Button(g.label(L), value=g.key, text=True, classes=[f"qh-group-{g.key}"])
    group = next(g for g in groups if g.key == group_key.value)
    for section, zh, en in group.sections:  # the section's names, the page's language first (not [policy.tax])
        first, second = (zh, en) if L == "zh" else (en, zh)
        with solara.Row(style={"gap": "8px", "align-items": "baseline", "margin-top": "8px"}, classes=["qh-section"]):
            solara.Text(first, style={"font-weight": "bold"})
            solara.Text(second, style={"font-size": "13px", "color": "#555"})
        for lever in group.levers:
            if lever.section == section:
                LeverRow(ctx, lever).key(lever.path)


@solara.component
def IndicatorSelect(ctx, keys=PLAN_INDICATORS):
    labels = {i18n.indicator(k, ctx.lang): k for k in keys}
    solara.Select(i18n.text("indicator", ctx.lang), values=list(labels), value=i18n.indicator(indicator_key.value, ctx.lang),
                  on_value=lambda label: indicator_key.set(labels[label]), style={"max-width": "520px"},
                  classes=["qh-indicator"])


def file_stem(name: str) -> str:
    """A run's or scenario's name as a file name: "baseline + 2 changes" -> "baseline_2_changes", "baseline + 2处修改"
    -> "baseline_2处修改"."""
    return re.sub(r"[^\w.-]+", "_", name.strip()).strip("_") or "run"


def _need_run(ctx) -> bool:
    """Whether a result page has nothing to show yet (it then says so); warns when the run shown is out of date."""
    if ctx.run is None:
        solara.Info(i18n.text("no_run", ctx.lang))
        return True
    if ctx.stale:
        solara.Warning(i18n.text("stale", ctx.lang), classes=["qh-stale"])
    return False


@solara.component
def IndicatorsPage(ctx):
    if not _need_run(ctx):
        IndicatorsView(ctx)


@solara.component
def IndicatorsView(ctx):
    ind, L, ref = ctx.run.result.indicators, ctx.lang, ctx.reference  # ref: the baseline run, after lever changes
    ref_ind = None if ref is None else ref.result.indicators
    ref_name = "" if ref is None else ref.request.name(L)
    ref_key = None if ref is None else ref.key
    IndicatorSelect(ctx)
    Chart(lambda: figures.indicator_figure(ind, indicator_key.value, PROVINCE, L, ref_ind, ref_name),
          [ctx.run.key, ref_key, indicator_key.value, L])
    table = solara.use_memo(lambda: figures.target_rows(ind, PROVINCE), dependencies=[ctx.run.key])
    reference = solara.use_memo(lambda: None if ref is None else figures.target_rows(ref_ind, PROVINCE),
                                dependencies=[ref_key])
    Table(tables.target_table(table, L, reference), classes=["qh-targets-province"],
          wrap=target_wrap(L))
    if ref is not None:  # what the change column is
        solara.Text(i18n.text("change_note", L).format(name=ref_name), style=NOTE_STYLE, classes=["qh-change-note"])
    ObservedNotes(table, L)
    if n_draws(ind) > 1:  # an ensemble: what its band and P(met) leave out
        solara.Text(band_caveat(L), style=NOTE_STYLE, classes=["qh-band-caveat"])
    if (note := persistence_note(L)) is not None:  # what the long-run projections rest on
        solara.Text(note, style=NOTE_STYLE, classes=["qh-persistence-note"])


NOTE_STYLE = {"font-size": "12px", "color": "#555", "display": "block"}  # small print below a table


@solara.component
def ObservedNotes(table, lang: str):
    """Below a target table: the restated observed 2020 values (marked "*") and the figure the plan prints, and
    those on another definition than the model's (marked "†") and how it differs."""
    for note in source_notes(table, lang):
        solara.Text(note, style=NOTE_STYLE, classes=["qh-source-note"])


@solara.component
def PrefecturesPage(ctx):
    if _need_run(ctx):
        return
    ind, L = ctx.run.result.indicators, ctx.lang
    IndicatorSelect(ctx)
    years = sorted(int(y) for y in ind["year"].unique() if y > ctx.run.request.scenario.run.start_year)
    plan = figures.plan_targets()
    targets = sorted({int(y) for y in plan[plan["region"] != PROVINCE]["year"] if y in years})  # e.g. Haixi's 2027
    year = prefecture_year.value if prefecture_year.value in years else (targets or years)[-1]
    with solara.Row(style={"gap": "12px", "align-items": "center"}):
        solara.Markdown(f"**{i18n.text('prefectures_in', L)}**" + (f" ({i18n.text('median_of_runs', L)})"
                                                                     if n_draws(ind) > 1 else ""))
        solara.Select(i18n.text("year", L), values=years, value=year, on_value=prefecture_year.set,
                      style={"max-width": "120px"}, classes=["qh-prefecture-year"])
        solara.Text(f"{i18n.text('target_years', L)}: {', '.join(map(str, targets)) or '—'}", style=NOTE_STYLE)
    Table(tables.prefecture_table(ind, list(PLAN_INDICATORS), year, L), classes=["qh-prefectures"],
          wrap=(i18n.text("indicator", L),))
    solara.Text(prefecture_anchor_note(L), style=NOTE_STYLE, classes=["qh-prefecture-anchors"])
    if (note := reduced_scale_note(ctx.run.request.scale, L)) is not None:  # small prefectures swing at scale < 1
        solara.Warning(note, classes=["qh-reduced-scale"])
    for note in base_year_notes(ind, L):  # a prefecture target the run already meets in its plan's base year
        solara.Text(note, style=NOTE_STYLE, classes=["qh-base-year-note"])
    Chart(lambda: figures.prefecture_figure(ind, indicator_key.value, L), [ctx.run.key, indicator_key.value, L])
    for region in ("haidong", "haixi"):
        table = figures.target_rows(ind, region)
        solara.Markdown(f"**{i18n.region(region, L)} · {i18n.text('own_targets', L)}**")
        Table(tables.target_table(table, L), classes=[f"qh-targets-{region}"],
              wrap=target_wrap(L))
        ObservedNotes(table, L)


@solara.component
def InsidePage(ctx):
    if _need_run(ctx):
        return
    run, L = ctx.run, ctx.lang
    if run.inside is None:
        solara.Info(i18n.text("need_single", L))
        return
    years = run.inside.years
    year = min(max(inside_year.value, years[0]), years[-1])
    # room for the value bubble above the slider, below the page tabs: padding, since the column's class ma-0 (margin 0
    # !important) voids a margin
    with solara.Column(style={"padding-top": "40px"}, classes=["qh-year-slider"]):
        solara.SliderInt(i18n.text("year_slider", L), value=year, min=years[0], max=years[-1],
                         on_value=inside_year.set, thumb_label="always", tick_labels=False)
    Chart(lambda: figures.inside_figure(run.inside, run.result.indicators, year, L), [run.key, year, L])


@solara.component
def ExportPage(ctx):
    """Downloads of the current run: the chosen indicator (CSV, PNG as shown), all indicators (CSV, as indicators.csv of
    ``qhsim run --out``), and the output layer's workbook and HTML report (``qhsim.output``: the same files
    ``qhsim export`` writes)."""
    if _need_run(ctx):
        return
    run, L = ctx.run, ctx.lang
    ind = run.result.indicators
    name = file_stem(run.request.name(L))
    key = indicator_key.value
    IndicatorSelect(ctx)
    with solara.Column():  # the CSVs as a run folder's indicators.csv (``exports.csv``), not the raw table
        solara.FileDownload(lambda: exports.csv(ind, [key]), filename=f"{name}_{key}.csv",
                            label=f"{i18n.text('csv', L)}: {i18n.indicator(key, L)}", mime_type="text/csv")
        solara.FileDownload(lambda: figures.png(figures.indicator_figure(ind, key, PROVINCE, L)),
                            filename=f"{name}_{key}.png", label=i18n.text("png", L), mime_type="image/png")
        solara.FileDownload(lambda: exports.csv(ind), filename=f"{name}_indicators.csv",
                            label=f"{i18n.text('csv', L)}: {i18n.text('all_indicators', L)}", mime_type="text/csv")
        solara.FileDownload(lambda: exports.xlsx(run.result), filename=f"{name}.xlsx", label=i18n.text("xlsx", L),
                            mime_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        solara.FileDownload(lambda: exports.html(run.result), filename=f"{name}_report.html",
                            label=i18n.text("html", L), mime_type="text/html")


@solara.component
def RankingHeading(result, L):
    """What the comparison's ranking is by (``compare.ranking_title``), its window and number of runs (a re-opened
    store's manifest does not record the latter), and whether chance may have set its order (``ranking_caveat``)."""
    runs = result.meta.get("runs")
    solara.Markdown(f"**{compare.ranking_title(result, L)}** · {i18n.text('window', L)} {result.window[0]}–{result.window[1]}"
                    + (f" · {runs} {i18n.text('runs', L)} ({i18n.text('per_design', L).format(n=result.runs_per_design)})"
                       if runs else ""))
    if result.meta.get("draws"):  # the posterior weight the draws hold and the weights their runs get
        solara.Markdown(f"{i18n.text('draws', L)}: {result.meta.get('parameters', '')}")
    caveat = ranking_caveat(result)  # one run per design, or designs whose order changes from run to run
    if caveat:
        solara.Warning(i18n.pick(caveat, L), classes=["qh-ranking-caveat"])


@solara.component
def SummaryTable(result, L):
    """A comparison's summary (``compare.summary``) and, below it, what its marks in place of R&D per yuan mean
    ("— 不稳定 unstable", "— 无额外成本 no extra cost") and its marks against the micro evidence ("↑", "↓"), the notes
    ``comparison.txt`` prints (``summary_notes``), each a paragraph."""
    table = compare.summary(result, L)
    Table(table, items_per_page=10)
    for note in compare.summary_notes(table, result):
        solara.Text(note, style={**NOTE_STYLE, "margin-bottom": "6px"}, classes=["qh-mark-notes"])


@solara.component
def ComparePage(ctx):
    s, L, task = ctx.session, ctx.lang, ctx.compare_task
    solara.Markdown(i18n.text("compare_help", L))
    with solara.Row(style={"gap": "12px", "align-items": "center", "flex-wrap": "wrap"}):
        TextInput(i18n.text("design_name", L), value=design_name, style={"max-width": "240px"},
                  placeholder=i18n.text("design_n", L).format(n=len(s.designs) + 1))
        solara.Button(i18n.text("add_design", L), classes=["qh-add-design"],
                      on_click=lambda: ctx.edit(lambda x: x.add_design(design_name.value, L)),
                      disabled=len(s.designs) >= MAX_DESIGNS)
        solara.Button(i18n.text("clear_designs", L), text=True, on_click=lambda: ctx.edit(Session.clear_designs))
    solara.Text(f"{i18n.text('designs', L)}: {len(s.designs)}", classes=["qh-design-count"])
    with solara.Column(gap="2px"):
        for d in s.designs:
            changes = "; ".join(lv.describe(list(d.changes), L)) or i18n.text("no_changes", L)
            solara.Text(f"• {d.name}: {changes}", style={"font-size": "13px"})
    with solara.Row(style={"gap": "12px", "align-items": "center"}):
        solara.Checkbox(label=i18n.text("budget_neutral", L), value=budget_neutral)
        solara.Checkbox(label=i18n.text("rank_total", L), value=rank_total)
        solara.Button(i18n.text("compare_run", L), color="primary", classes=["qh-compare"], on_click=lambda: task(),
                      disabled=task.pending or not s.designs)
        solara.Button(i18n.text("cancel", L), on_click=task.cancel, disabled=not task.pending, classes=["qh-compare-cancel"])
    if task.pending:
        solara.ProgressLinear(task.progress if task.progress is not None else True)
    elif task.cancelled:  # said nothing: the analyst could not tell a cancelled comparison from one still to come
        solara.Warning(i18n.text("cancelled", L), classes=["qh-compare-cancelled"])
    elif task.error:
        solara.Error(f"{i18n.text('error', L)}: {i18n.message(task.exception, L)}", classes=["qh-compare-error"])
    if last_compare.value is None:
        return
    k, result = last_compare.value
    if k != compare.key(s, budget_neutral.value, RANK_TOTAL if rank_total.value else RANK_DEFAULT):
        solara.Warning(i18n.text("stale_compare", L), classes=["qh-stale"])
    RankingHeading(result, L)
    with solara.Column(classes=["qh-compare-result"]):
        SummaryTable(result, L)
    if result.budget is not None:
        Table(tables.text_table(result.budget, L), items_per_page=10)
    ChangesView(ctx, result, str(k))
    with solara.Row(style={"flex-wrap": "wrap"}, classes=["qh-compare-downloads"]):  # the fifth ran off the window
        for name in ("changes", "costs", "leverage", "targets", "ranking"):
            table = getattr(result, name)
            solara.FileDownload(lambda t=table: t.to_csv(index=False).encode("utf-8-sig"), filename=f"compare_{name}.csv",
                                label=i18n.text("csv_of", L).format(what=i18n.text(f"csv_{name}", L)), mime_type="text/csv")


@solara.component
def ChangesView(ctx, result, key: str, keys=PLAN_INDICATORS):
    """The chosen indicator's change against the baseline, by design and year (titled, with its unit), and the chart."""
    L = ctx.lang
    IndicatorSelect(ctx, keys=keys)
    solara.Markdown(f"**{compare.changes_title(result, indicator_key.value, L)}**")
    Table(compare.changes(result, indicator_key.value, L), items_per_page=10, classes=["qh-compare-changes"])
    Chart(lambda: compare.figure(result, indicator_key.value, L), [key, indicator_key.value, L])


@solara.component
def ExperimentsPage(ctx):
    L = ctx.lang

    def load() -> None:
        try:
            store.value, store_error.value = explore.open_store(store_path.value), None
        except InputError as exc:
            store.value = None
            store_error.value = tuple(f"{i18n.text('store_failed', lang)}{'：' if lang == 'zh' else ': '}"
                                      f"{i18n.message(exc, lang)}" for lang in ("zh", "en"))

    solara.Markdown(i18n.text("experiments_help", L))
    with solara.Row(style={"gap": "12px", "align-items": "center"}):
        TextInput(i18n.text("store", L), value=store_path, style={"min-width": "420px"})
        solara.Button(i18n.text("load", L), on_click=load, classes=["qh-load-store"])
    if store_error.value:
        solara.Error(i18n.pick(store_error.value, L), classes=["qh-store-error"])
    st = store.value
    if st is None:
        return
    solara.Text(" · ".join([str(st.folder), i18n.text(f"kind_{st.kind}", L), *(st.lever_label(n, L) for n in st.levers)]),
                style={"font-size": "13px"}, classes=["qh-store"])
    if st.kind == "compare":
        RankingHeading(st.comparison, L)
        SummaryTable(st.comparison, L)
        ChangesView(ctx, st.comparison, str(st.folder), keys=st.indicators)
        return
    SweepView(ctx, st)


def _pct(x: float) -> str:
    return "—" if x != x else f"{x:.0%}"


def prim_line(res, L: str) -> str:
    """The line above the PRIM box: points that succeed, coverage, density and, where no box was chosen, why, in the
    page's language (``DiscoveryResult.note``, a (Chinese, English) pair of ``qhsim.experiments.discovery``)."""
    n, k = len(res.points), int(res.points["success"].sum())
    note = i18n.pick(res.note, L)
    return (f"**PRIM** · {k}/{n} {i18n.text('points_succeed', L)} · {i18n.text('coverage', L)} "
            f"{_pct(res.coverage)} · {i18n.text('density', L)} {_pct(res.density)}" + (f" · {note}" if note else ""))


@solara.component
def SweepView(ctx, st):
    L = ctx.lang
    IndicatorSelect(ctx, keys=st.indicators)
    key = indicator_key.value if indicator_key.value in st.indicators else st.indicators[0]
    year = sweep_year.value if sweep_year.value in st.years else explore.default_year(st)
    typed = sweep_threshold.value  # a threshold holds for the indicator and year it was typed for
    threshold = typed[2] if typed and typed[:2] == (key, year) else explore.default_threshold(key, year, st.runs)
    with solara.Row(style={"gap": "12px", "align-items": "center"}):
        solara.Select(i18n.text("year", L), values=st.years, value=year, on_value=sweep_year.set, style={"max-width": "120px"})
        NumberInput(f"{i18n.text('threshold', L)} ({i18n.unit_of(key, L)})", threshold,
                    lambda v: sweep_threshold.set((key, year, v)), L, style={"max-width": "200px"})
        NumberInput(i18n.text("probability", L), sweep_probability.value, _probability, L,
                    style={"max-width": "160px"})
    Chart(lambda: explore.response_figure(st, key, year, threshold, L), [str(st.folder), key, year, threshold, L])
    try:
        res = explore.discover(st, key, year, threshold, sweep_probability.value)
    except InputError as exc:
        solara.Error(i18n.message(exc, L), classes=["qh-prim-error"])
        return
    with solara.Column(classes=["qh-prim"]):
        solara.Markdown(prim_line(res, L))
    labels = {lever: st.lever_label(lever, L) for lever in st.levers}
    if len(res.box):
        Table(tables.box_table(res.box, labels, L), items_per_page=10, classes=["qh-prim-box"])
    numbers = {lever: pd.to_numeric(res.points[lever], errors="coerce") for lever in st.levers}  # 60,000, not 60000
    points = res.points.assign(**{lv_: v.astype(float) if v.notna().all() else res.points[lv_].map(lambda x: i18n.level(x, L))
                                  for lv_, v in numbers.items()})  # a selection rule by its label: 择优, not merit
    Table(tables.text_table(points.rename(columns=labels), L), items_per_page=10, classes=["qh-prim-points"])


def _probability(v: float):
    """Set the required probability of a sweep point reaching the threshold (a share of its runs, 0 to 1)."""
    if not 0 < v <= 1:
        return i18n.out_of_range(i18n.TEXT["probability"], v, "(0, 1]").pair
    sweep_probability.set(v)
    return None


PAGES = {
    "levers": LeversPage,
    "indicators": IndicatorsPage,
    "prefectures": PrefecturesPage,
    "compare": ComparePage,
    "experiments": ExperimentsPage,
    "inside": InsidePage,
    "export": ExportPage,
}
