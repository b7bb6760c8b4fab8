"""One analyst's session 会话状态: the starting scenario, lever changes and run settings, as an immutable value.

The app keeps one ``Session`` per browser session (a Solara reactive variable is scoped to its session), and
every edit makes a new one, so two browsers never share levers. Everything here is plain Python and
unit-tested without a browser.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from qhsim.config import Scenario, scenario_from_dict
from qhsim.config.schema import Run, tier_problem
from qhsim.dashboard import i18n
from qhsim.dashboard import levers as lv
from qhsim.dashboard.runs import RunRequest
from qhsim.errors import InputError

MAX_DESIGNS = 4


def scenarios_dir() -> Path:
    """The shipped scenarios: $QHSIM_SCENARIOS, else ``scenarios/`` of the source tree, else of the working directory."""
    env = os.environ.get("QHSIM_SCENARIOS")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[2] / "scenarios"
    return here if here.is_dir() else Path.cwd() / "scenarios"


def shipped_scenarios() -> list[str]:
    return sorted(p.name for p in scenarios_dir().glob("*.toml"))


def max_draws() -> int:
    """The most parameter draws an ensemble can take: the calibrated ensemble's different sets (1 without one)."""
    from qhsim.calibrated import load_calibration

    cal = load_calibration()
    return cal.available if cal is not None and len(cal.draws) else 1


def _seed_range() -> tuple[int, int]:
    """The seeds a scenario accepts (its ``[run] seed`` field's bounds)."""
    meta = Run.model_fields["seed"].metadata
    return (next(m.ge for m in meta if hasattr(m, "ge")), next(m.le for m in meta if hasattr(m, "le")))


SEED_RANGE = _seed_range()
SEED_ALLOWED = f"[{SEED_RANGE[0]}, {SEED_RANGE[1]:,}]"


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"1, 2,3"`` -> (1, 2, 3); ``InputError`` for anything else."""
    label = (i18n.TEXT["seeds"][0], i18n.TEXT["seeds"][1])
    bad = i18n.out_of_range(label, repr(text), f"{SEED_ALLOWED}, 1,2,3")
    try:
        seeds = tuple(int(s) for s in text.replace(" ", "").replace("，", ",").split(",") if s)
    except ValueError:
        raise bad from None
    if not seeds or not all(SEED_RANGE[0] <= s <= SEED_RANGE[1] for s in seeds):
        raise bad
    return seeds


@dataclass(frozen=True)
class Design:
    name: str
    changes: tuple[lv.Change, ...]


@dataclass(frozen=True, eq=False)
class Session:
    base_name: str
    base_raw: dict[str, Any]
    changes: tuple[lv.Change, ...] = ()
    scale: float = 1.0
    seed: int = 1  # ``start`` takes the scenario's [run] seed, as ``qhsim run`` does
    draws: int = 0  # 0 = single run
    seeds: tuple[int, ...] = (1, 2, 3)  # the ensemble's, as ``qhsim compare`` and the experiments engine default
    designs: tuple[Design, ...] = field(default=())

    @classmethod
    def start(cls, source: str | Path | bytes = "baseline.toml", name: str | None = None) -> Session:
        """A session on a shipped scenario (by file name), a scenario file path, or uploaded TOML bytes, with the
        file's own seed and scale (so its run is the one ``qhsim run FILE`` makes)."""
        folder = scenarios_dir()
        try:
            if isinstance(source, bytes):
                base_name = name or "upload.toml"
                raw = lv.scenario_raw(source, folder, base_name)
            else:
                path = Path(str(source).strip())
                path = path if path.is_absolute() or path.exists() else folder / path
                raw, base_name = lv.scenario_raw(path, folder), name or path.name
            sc = scenario_from_dict(raw, base_name)  # validate now: a bad file fails here, naming the key
        except InputError as exc:
            raise i18n.Bilingual(f"{i18n.TEXT['open_failed'][0]}：{i18n.message(exc, 'zh')}",
                                 f"{i18n.TEXT['open_failed'][1]}: {i18n.message(exc, 'en')}") from None
        return cls(base_name=base_name, base_raw=raw, seed=sc.run.seed, scale=sc.run.scale)

    def switch(self, source: str | Path) -> tuple[Session, tuple[str, str] | None]:
        """A session on another starting scenario that keeps this one's run type (single or ensemble, draws, seeds)
        and its designs that are valid on the new base, with a note (Chinese, English) of what changed (None when
        nothing was lost or kept)."""
        new = Session.start(source)
        kept, dropped = [], []
        for d in self.designs:
            try:
                lv.build_scenario(new.base_raw, list(d.changes), origin=new.base_name)
            except InputError:
                dropped.append(d)
                continue
            kept.append(d)
        new = replace(new, draws=self.draws, seeds=self.seeds, designs=tuple(kept))
        names = {d.name for d in kept}
        if new.base_design in names:  # a design named after the new base would clash with it in the comparison
            dropped += [d for d in kept if d.name == new.base_design]
            new = replace(new, designs=tuple(d for d in kept if d.name != new.base_design))
        parts = []
        for key, n, fields in (("designs_kept", len(new.designs), {}), ("designs_dropped", len(dropped),
                               {"names": ", ".join(d.name for d in dropped)}), ("changes_cleared", len(self.changes), {})):
            if n:
                parts.append(tuple(i18n.TEXT[key][j].format(base=new.base_name, n=n, **fields) for j in (0, 1)))
        if not parts:
            return new, None
        return new, ("；".join(p[0] for p in parts), "; ".join(p[1] for p in parts))

    @cached_property
    def base(self) -> Scenario:
        return scenario_from_dict(self.base_raw, self.base_name)

    @property
    def base_design(self) -> str:
        """The base's name in a comparison (the starting scenario's file name without .toml)."""
        return Path(self.base_name).stem or "baseline"

    def name(self, lang: str) -> str:
        """The run's name in ``lang``: the base's, with the number of lever changes when there are any ("baseline + 2
        changes", "baseline + 2处修改"; ``i18n.run_name``)."""
        return i18n.run_name(self.base.run.name or self.base_design, len(self.changes), lang)

    @cached_property
    def description(self) -> str:
        """The base's description, and the lever changes in both languages."""
        base = self.base.run.description
        if not self.changes:
            return base
        zh, en = ("；".join(lv.describe(list(self.changes), "zh")), "; ".join(lv.describe(list(self.changes), "en")))
        return f"{base} + 杠杆修改：{zh} / lever changes: {en}"

    @cached_property
    def scenario(self) -> Scenario:
        """The base with the lever changes applied, named after them in English (``name``; ``request`` names it in the
        page's language) and described in both (``description``)."""
        return lv.build_scenario(self.base_raw, list(self.changes),
                                 {"name": self.name("en"), "description": self.description}, origin=self.base_name)

    def change(self, path: str) -> lv.Change | None:
        return next((c for c in self.changes if c.path == path), None)

    def value(self, path: str) -> Any:
        """The lever's value as edited (the base value in force in the change year when unchanged)."""
        c = self.change(path)
        return c.value if c else lv.current_value(self.base, path, self.from_year(path))

    def from_year(self, path: str) -> int | None:
        c = self.change(path)
        if not lv.levers()[path].scheduled:
            return None
        return c.from_year if c else lv.DEFAULT_FROM_YEAR

    @property
    def change_years(self) -> tuple[int, int]:
        """The years a lever change may start in: after the initial state, up to the run's last year."""
        return self.base.run.start_year + 1, self.base.run.end_year

    def with_lever(self, path: str, value: Any = None, from_year: int | None = None) -> Session:
        """Set a lever (value and/or year); a value equal to the base's in that year removes the change."""
        lever = lv.levers()[path]
        value = self.value(path) if value is None else lv.check_value(lever, value)
        year = (from_year if from_year is not None else self.from_year(path)) if lever.scheduled else None
        lo, hi = self.change_years
        if year is not None and not lo <= year <= hi:
            label = tuple(f"{lever.label(lang)} · {i18n.text('from_year', lang)}" for lang in ("zh", "en"))
            raise i18n.out_of_range(label, year, f"{lo}–{hi}")
        others = tuple(c for c in self.changes if c.path != path)
        if value == lv.current_value(self.base, path, year):
            return replace(self, changes=others)
        new = replace(self, changes=(*others, lv.Change(path, value, year)))
        new._check_list(lever)
        return new

    def _lists_of(self, lever: lv.Lever) -> list[lv.Lever]:
        """The other list levers of ``lever``'s section (the R&D reward's tiers and amounts go in pairs)."""
        return [o for o in lv.levers().values() if not o.scheduled and o.section == lever.section and o is not lever]

    def _check_list(self, lever: lv.Lever) -> None:
        """Refuse a list lever's value that the scenario rejects (tiers not ascending, an amount out of range:
        ``schema.tier_problem``), naming the lever in the language of each half; a list whose length differs from its
        section's other lists is let through, since the analyst edits one list, then the other (``problem`` says so
        until they match)."""
        if lever.scheduled:  # a schedule's value was checked against its domain, and no rule ties it to another
            return
        problem = tier_problem(lever.name, self.value(lever.path))  # the list levers are the R&D reward's tiers
        if problem is not None:
            raise i18n.Bilingual(*(f"{lever.label(lang)} = {lever.value_text(self.value(lever.path), lang)}"
                                   f"{'：' if lang == 'zh' else ': '}{said}" for lang, said in zip(i18n.LANGS, problem)))

    @cached_property
    def problem(self) -> tuple[str, str] | None:
        """Why the levers make no scenario that can run, (Chinese, English), or None: list levers of one section with
        different numbers of values (the R&D reward's tiers and amounts), or anything else the scenario rejects. The
        pages show it and Run, Compare, adding a design and saving wait until it is fixed."""
        for lever in (x for x in lv.levers().values() if not x.scheduled):
            for other in self._lists_of(lever):
                n, m = len(self.value(lever.path)), len(self.value(other.path))
                if n != m:
                    return tuple(i18n.TEXT["lists_differ"][j].format(a=pair[0], n=n, b=pair[1], m=m)
                                 for j, pair in enumerate(((lever.zh, other.zh), (lever.en, other.en))))
        try:
            self.scenario
        except InputError as exc:
            return i18n.message(exc, "zh"), i18n.message(exc, "en")
        return None

    def reset(self) -> Session:
        return replace(self, changes=())

    def with_run(self, **settings: Any) -> Session:
        """Change run settings (``scale``, ``seed``, ``draws``, ``seeds``), each checked against its allowed range."""
        checks = {"scale": (lambda v: 0 < v <= 1, "(0, 1]"), "seed": (lambda v: SEED_RANGE[0] <= v <= SEED_RANGE[1], SEED_ALLOWED),
                  "draws": (lambda v: v >= 0, "0, 1, 2, …")}
        for key, value in settings.items():
            if key in checks:
                ok, allowed = checks[key]
                number = isinstance(value, int | float) and not isinstance(value, bool)
                if not number or (key != "scale" and value != int(value)) or not ok(value):
                    raise i18n.out_of_range(i18n.TEXT[key], value, allowed)
        return replace(self, **settings)

    def request(self, lang: str = "en") -> RunRequest:
        """The run the levers and run settings ask for, its scenario named in ``lang`` (the page's: the name its
        results and exports carry), with its name in both languages for the pages to show in theirs."""
        sc = self.scenario
        sc = sc.model_copy(update={"run": sc.run.model_copy(update={"name": self.name(lang)})})
        return RunRequest(sc, scale=self.scale, seed=self.seed, draws=self.draws, seeds=self.seeds,
                          names=(self.name("zh"), self.name("en")))

    def base_request(self, lang: str = "en") -> RunRequest:
        """The run of the starting scenario without the lever changes, with the same run settings: the baseline the
        pages show beside the current run (``runs.with_reference``)."""
        return replace(self, changes=()).request(lang)

    def add_design(self, name: str, lang: str = "en") -> Session:
        """Save the current levers as a design named ``name`` (empty: "design N" in ``lang``); a name already used by
        the base or another design is refused."""
        if len(self.designs) >= MAX_DESIGNS:
            raise i18n.Bilingual(f"除基准外最多{MAX_DESIGNS}个方案", f"at most {MAX_DESIGNS} designs besides the baseline")
        if self.problem:
            raise i18n.Bilingual(*self.problem)
        name = name.strip() or i18n.text("design_n", lang).format(n=len(self.designs) + 1)
        taken = [d.name for d in self.designs]
        if name in (self.base_design, *taken):
            fields = {"name": name, "base": self.base_design, "taken": ", ".join(taken) or "—"}
            raise i18n.Bilingual(*(i18n.TEXT["design_taken"][j].format(**fields) for j in (0, 1)))
        return replace(self, designs=(*self.designs, Design(name, self.changes)))

    def clear_designs(self) -> Session:
        return replace(self, designs=())

    def toml(self, name: str = "", lang: str = "en") -> str:
        """The current levers as a self-contained scenario file, named ``name`` (empty: the run's ``name`` in ``lang``,
        the page's), with the run's description and the seed and scale the dashboard runs it with."""
        run = {"name": name or self.name(lang), "description": self.description, "seed": self.seed, "scale": self.scale}
        sc = lv.build_scenario(self.base_raw, list(self.changes), run, origin=self.base_name)
        lines = [f"Scenario saved from the qhsim dashboard 由仪表盘保存; started from {self.base_name}",
                 "Lever changes 杠杆修改:"] + [f"  {line}" for line in lv.describe(list(self.changes))]
        if self.draws:  # the file holds one seed: the ensemble is a command-line option
            lines.insert(1, f"Ensemble 集合运行: qhsim run FILE --draws {self.draws} --seeds {','.join(map(str, self.seeds))}")
        return lv.scenario_toml(sc, "\n".join(lines if self.changes else lines[:-1]))
