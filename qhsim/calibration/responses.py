"""Policy responses 政策响应: what one yuan of policy buys in the calibrated model, beside the micro evidence.

The 2015-2020 aggregates barely identify the response magnitudes that rank subsidy designs, so the model is
checked against the micro evidence (/work/shared/research/policy_response_evidence.md, summarised in
``EVIDENCE``) by paired experiments under common random numbers: the base and the variant run with the same
dynamics seed and the same fixed 2015 population, so their difference is the policy's effect.

- ``user_cost_elasticity``: −Δln(reported business R&D) / Δln(R&D-weighted user cost) between the baseline and
  ``super_deduction_120`` (deduction 100% → 120% from 2026), both log changes summed over 2031-2035 (six to ten
  years later: the long run; five years rather than 2035 alone, whose seed noise gave the ratio an sd of ≈0.9);
  ``user_cost_elasticity_real`` the same for real business R&D (reported less relabelled spending);
- ``tax_leverage``: extra business R&D per extra yuan of public cost in the same pair (the cost is the
  super-deduction tax expenditure), cumulated over 2026-2035;
- ``grant_leverage``: the same for ``more_ex_ante_grants`` (the cost is grant spending);
- ``hte_bunching``: in the baseline's 2020 population, firms whose reported 3-year R&D ratio lies within 10% above
  their HTE threshold (the threshold itself included), per firm within 10% below it (1 = no bunching);
- ``relabelled_share``: in the same population, the relabelled share of the reported R&D of the HTE holders (the
  notch firms, as in Chen et al. 2021); the share of all reported business R&D is shown beside it.

``CHECKS`` are shown beside the responses against their evidence but are not used by the calibration's evidence step:
``rd_exit_rate``, the yearly share of the above-scale industrial firms doing R&D that no longer do the next year
(firms alive in both years, switches 2015→2016 … 2019→2020 of the baseline run, pooled; the model's indicator of the
same name gives it year by year); the entry rate of the others is shown beside it. It measures how lasting the
extensive margin is: a firm a policy brings into R&D stays as long as the model's exit rate lets it. Since the
forty-seventh session the calibration fits the same rate, year by year, to this evidence (calibration/targets.toml,
group micro_evidence): the conditional fit estimates the three parameters behind it (``stop_probability``,
``certified_stop_factor``, ``stop_size_elasticity``); here it is measured again on the response seeds.

``benchmarks``-style use: ``python -m qhsim.calibration.responses [--seeds 4] [--scale 1] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import pandas as pd

from qhsim.calibration.settings import REPO_ROOT, CalibrationConfig
from qhsim.evidence import CHECKS, EVIDENCE
from qhsim.experiments.comparison import leverage

SCENARIOS = REPO_ROOT / "scenarios"
BASE, TAX, GRANT = "baseline", "super_deduction_120", "more_ex_ante_grants"
LONG_RUN_YEAR = 2035
LONG_RUN_YEARS = range(2031, LONG_RUN_YEAR + 1)  # the elasticities: log changes summed over 2031-2035
BUNCHING_YEAR = 2020
BUNCHING_BAND = 0.10  # relative distance to the threshold counted as "just above / just below"
SWITCH_YEARS = range(2016, BUNCHING_YEAR + 1)  # R&D switches from the year before to each of these (2015→2016 …)
RESPONSE_SEEDS = CalibrationConfig.response_seeds  # fresh dynamics seeds for the fit report's section (a setting)
NEAR_SE = 2.0  # a mean outside its range by at most this many standard errors is marked as such (``verdict``)


def _scenario(name: str, parameters: dict[str, float] | None):
    from qhsim.config import load_scenario

    sc = load_scenario(SCENARIOS / f"{name}.toml")
    if parameters:
        sc = sc.model_copy(update={"parameters": {**sc.parameters, **parameters}})
    return sc


def _spec(name: str, parameters: dict | None, seed: int, scale: float):
    """The run of scenario ``name`` with ``parameters`` over its own (over the calibrated point estimate)."""
    from qhsim.experiments.designs import design_from_file
    from qhsim.experiments.spec import RunSpec

    design = design_from_file(SCENARIOS / f"{name}.toml")
    params = None if not parameters else {**design.own_parameters, **parameters}
    return RunSpec(design.scenario, seed, scale, LONG_RUN_YEAR, (), params, True, design.origin,
                   scenario_key=design.scenario_key)


def rd_switches(uid: np.ndarray, active: np.ndarray, population: np.ndarray, uid_next: np.ndarray,
                active_next: np.ndarray) -> np.ndarray:
    """R&D switches of the firms in ``population`` (a mask) from one year to the next, among those alive in both
    (``uid`` identifies a firm; the next year's ``uid_next`` are unique): counts of [active, of which stopped;
    inactive, of which started]."""
    order = np.argsort(uid_next)
    at = np.minimum(np.searchsorted(uid_next, uid, sorter=order), len(uid_next) - 1)
    nxt = order[at]
    alive = population & (uid_next[nxt] == uid)
    now, later = active[alive], active_next[nxt[alive]]
    return np.array([now.sum(), (now & ~later).sum(), (~now).sum(), (~now & later).sum()], dtype=np.int64)


def _baseline_facts(task: tuple[str, dict | None, int, float]) -> tuple:
    """In BUNCHING_YEAR: (firms within BUNCHING_BAND above their HTE threshold, firms within it below; the
    relabelled and the reported R&D of the notch firms — those just above, Chen et al.'s comparison group — and
    of the HTE holders); then the above-scale industrial firms' R&D switches over SWITCH_YEARS (``rd_switches``'
    counts, summed)."""
    from qhsim.firms.certification import RATIO_TOLERANCE, hte_threshold, three_year_ratio
    from qhsim.indicators import above_scale_industrial
    from qhsim.model import QinghaiModel
    from qhsim.policy import policy_at

    name, parameters, seed, scale = task
    sc = _scenario(name, parameters)
    sc = sc.model_copy(update={"run": sc.run.model_copy(update={"seed": seed, "scale": scale})})
    model = QinghaiModel(sc)
    model.run_to(SWITCH_YEARS[0] - 1)
    switches = np.zeros(4, dtype=np.int64)
    for year in SWITCH_YEARS:
        f = model.firms
        before = (f.uid.copy(), f.rd > 0, above_scale_industrial(f))
        model.run_to(year)
        switches += rd_switches(*before, model.firms.uid, model.firms.rd > 0)
    f = model.firms
    rel = three_year_ratio(f) / hte_threshold(f.revenue, policy_at(sc, BUNCHING_YEAR)) - 1.0
    active = f.rd > 0
    at_or_above = rel >= -RATIO_TOLERANCE  # a ratio set exactly to the threshold passes (certification.py)
    notch = active & at_or_above & (rel < BUNCHING_BAND)
    below = int((active & ~at_or_above & (rel >= -BUNCHING_BAND)).sum())
    hte = f.hte_until >= BUNCHING_YEAR
    relabelled = f.rd - f.rd_real
    facts = (int(notch.sum()), below, float(relabelled[notch].sum()), float(f.rd[notch].sum()),
             float(relabelled[hte].sum()), float(f.rd[hte].sum()), *switches.tolist())
    model.close()  # as ``run`` does: the worker's next task reuses the memory at once (QinghaiModel.close)
    return facts


def real_rd_table(province: pd.DataFrame) -> pd.DataFrame:
    """A province table (indexed by year) whose business R&D is the real one (for ``leverage`` on real R&D)."""
    return province.reset_index().assign(business_rd=province["business_rd_real"].to_numpy())


def user_cost_elasticity(base: pd.DataFrame, variant: pd.DataFrame, column: str = "business_rd") -> float:
    """−Δln(``column``) / Δln(R&D-weighted user cost) between two paired province tables (indexed by year), both
    log changes summed over LONG_RUN_YEARS; NaN where the user cost did not move."""
    years = list(LONG_RUN_YEARS)
    d_uc = float(np.log(variant.loc[years, "rd_user_cost"] / base.loc[years, "rd_user_cost"]).sum())
    d_rd = float(np.log(variant.loc[years, column] / base.loc[years, column]).sum())
    return -d_rd / d_uc if d_uc else math.nan


def _pair_values(runs: dict, notch: tuple, s: int) -> dict[str, float]:
    """The responses of one seed's paired runs (``runs[(scenario, seed)]``: province tables by year)."""
    above, below, relabelled, reported, relabelled_hte, reported_hte, active, stopped, inactive, started = notch
    base, tax, grant = runs[(BASE, s)], runs[(TAX, s)], runs[(GRANT, s)]
    out = {key: user_cost_elasticity(base, tax, column)
           for key, column in (("user_cost_elasticity", "business_rd"), ("user_cost_elasticity_real", "business_rd_real"))}
    out["tax_leverage"] = leverage(base.reset_index(), tax.reset_index())["leverage"]
    out["grant_leverage"] = leverage(base.reset_index(), grant.reset_index())["leverage"]
    out["hte_bunching"] = above / below if below else math.inf
    out["relabelled_share"] = relabelled / reported if reported else math.nan
    out["relabelled_share_hte"] = relabelled_hte / reported_hte if reported_hte else math.nan
    out["relabelled_share_all"] = base.at[BUNCHING_YEAR, "relabelled_rd_share"] / 100.0
    out["tax_leverage_real"] = leverage(real_rd_table(base), real_rd_table(tax))["leverage"]
    out["rd_exit_rate"] = stopped / active if active else math.nan
    out["rd_entry_rate"] = started / inactive if inactive else math.nan
    return out


def response_values(points: list[dict[str, float] | None], seeds: tuple[int, ...], scale: float = 1.0,
                    workers: int = 1) -> list[dict[str, list[float]]]:
    """For each parameter point (None: the model's defaults), each response's value per seed. All points' runs
    go through one engine, so many points (the calibration's evidence step) share the workers."""
    from qhsim.experiments.engine import Engine

    tasks = [(k, name, s) for k in range(len(points)) for name in (BASE, TAX, GRANT) for s in seeds]
    notch_tasks = [(k, s) for k in range(len(points)) for s in seeds]
    with Engine(workers) as engine:
        tables = engine.map([_spec(name, points[k], s, scale) for k, name, s in tasks])
        notch = engine.map_calls(_baseline_facts, [(BASE, points[k], s, scale) for k, s in notch_tasks])
    out = []
    for k in range(len(points)):
        runs = {(name, s): t[t["region"] == "province"].set_index("year")
                for (kk, name, s), t in zip(tasks, tables) if kk == k}
        per_seed = [_pair_values(runs, n, s) for (kk, s), n in zip(notch_tasks, notch) if kk == k]
        out.append({key: [v[key] for v in per_seed] for key in (*EVIDENCE, *CHECKS, *INFO)})
    return out


def response_means(points: list[dict[str, float]], seeds: tuple[int, ...], scale: float = 1.0,
                   workers: int = 1) -> list[dict[str, float]]:
    """For each point, the seed mean of each response (the calibration's evidence step)."""
    return [{key: float(np.mean(v)) for key, v in values.items()}
            for values in response_values(points, seeds, scale, workers)]


def policy_responses(parameters: dict[str, float] | None = None, seeds: tuple[int, ...] = (1, 2, 3, 4),
                     scale: float = 1.0, workers: int = 1) -> pd.DataFrame:
    """One row per response in ``EVIDENCE`` (``kind`` "response"), then per check in ``CHECKS`` (``kind`` "check"):
    the model's value (mean over seeds), its seed sd and the mean's standard error, the evidence range, whether the
    mean lies inside it and whether it lies within ``NEAR_SE`` standard errors of it (``near``: seeds cannot tell
    such a mean from one inside).
    ``parameters`` override the behavioural defaults (e.g. a calibration's point estimate); without them the
    model's defaults (calibrated.toml) are used."""
    values = response_values([parameters], seeds, scale, workers)[0]
    rows = []
    for kind, evidence in (("response", EVIDENCE), ("check", CHECKS)):
        for key, ev in evidence.items():
            v = np.asarray(values[key], dtype=float)
            mean = float(v.mean())
            # undefined where a response is (an extra grant budget left unspent in one seed: no cost)
            sd = float(v.std(ddof=1)) if len(v) > 1 and np.isfinite(v).all() else math.nan
            se = sd / math.sqrt(len(v))
            rows.append({
                "response": key, "kind": kind, "label": ev.label, "model": mean, "seed_sd": sd,
                "standard_error": se, "low": ev.low, "high": ev.high, "inside": bool(ev.low <= mean <= ev.high),
                "near": bool(ev.outside_by(mean) <= NEAR_SE * se), "evidence": ev.source,
            })
    table = pd.DataFrame(rows)
    table.attrs.update({key: float(np.mean(values[key])) for key in INFO}, seeds=tuple(seeds))
    return table


def ensemble_responses(cal, seeds: tuple[int, ...], scale: float = 1.0, workers: int = 1) -> pd.DataFrame:
    """The calibrated ensemble's posterior draws against the policy-response evidence: one row per draw (the first
    of its parameter sets where the ensemble holds level samples of it, ``Calibration.draw_of``), its ``weight``
    (the sum of its sets' weights), each ``EVIDENCE`` response's mean over ``seeds`` and whether every one lies
    inside its range (``inside``). What the calibration's evidence step weighed, remade on the current code:
    a change to the model or its ledger after the calibration moves the draws, not only the point."""
    draw_of = cal.draw_of if cal.draw_of is not None else np.arange(len(cal.weights))
    draws = np.unique(draw_of)
    rows = [int(np.flatnonzero(draw_of == d)[0]) for d in draws]
    means = response_means(cal.parameter_sets(rows), seeds, scale, workers)
    table = pd.DataFrame([{"draw": int(d), "weight": float(cal.weights[draw_of == d].sum()),
                           **{key: m[key] for key in EVIDENCE}} for d, m in zip(draws, means)])
    table["inside"] = np.logical_and.reduce([table[key].between(ev.low, ev.high) for key, ev in EVIDENCE.items()])
    return table


def ensemble_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per ``EVIDENCE`` response, over ``ensemble_responses``' draws: the weighted mean, the share of the weight
    inside the evidence range and the draws' lowest and highest values."""
    w = table["weight"].to_numpy() / table["weight"].sum()
    rows = []
    for key, ev in EVIDENCE.items():
        v = table[key].to_numpy(dtype=float)
        rows.append({"response": key, "label": ev.label, "weighted_mean": float(w @ v),
                     "share_inside": float(w[(v >= ev.low) & (v <= ev.high)].sum()), "low": ev.low, "high": ev.high,
                     "min": float(v.min()), "max": float(v.max())})
    return pd.DataFrame(rows)


# shown beside the table (no evidence range of their own): attrs of ``policy_responses``' table
INFO = {
    "relabelled_share_hte": "relabelled share of the HTE holders' reported R&D",
    "relabelled_share_all": "relabelled share of all reported business R&D",
    "tax_leverage_real": "real business R&D per yuan of super-deduction tax expenditure",
    "rd_entry_rate": "yearly share of the other above-scale industrial firms that start R&D",
}


def evidence_range(low: float, high: float) -> str:
    return f"≥ {low:g}" if math.isinf(high) else f"{low:g}–{high:g}"


def verdict(row) -> str:
    """A response row's "inside" cell: yes; **no**; or **no**, within NEAR_SE s.e., where its seeds cannot tell the mean
    from one inside."""
    if row.inside:
        return "yes"
    return f"**no**, within {NEAR_SE:g} s.e." if row.near else "**no**"


def section_lines(table: pd.DataFrame, seeds: tuple[int, ...], scale: float, what: str) -> list[str]:
    """The fit report's "policy response" section (Markdown lines)."""
    L = ["## Policy responses 政策响应 (paired experiments, common random numbers)", ""]
    L.append(
        f"{what}, {len(seeds)} seeds at scale {scale:g} with the fixed 2015 population; variants "
        f"`{TAX}` (tax) and `{GRANT}` (grants) against `{BASE}`, both from 2026, elasticities over {LONG_RUN_YEARS[0]}–{LONG_RUN_YEAR}, leverages "
        f"cumulated 2026–{LONG_RUN_YEAR}; bunching in the {BUNCHING_YEAR} baseline population (±{BUNCHING_BAND:.0%} of "
        "the threshold). Evidence: /work/shared/research/policy_response_evidence.md (`qhsim.calibration.responses`)."
    )
    L.append("")
    L.extend(evidence_rows(table[table["kind"] == "response"], "response", sources=True))
    L.append("")
    info = "; ".join(f"{label} {table.attrs[key]:.3g}" for key, label in INFO.items() if key in table.attrs)
    L.append(
        "Reported R&D (what the plan indicators, the HTE ratio and the super-deduction count) is real R&D plus "
        "non-R&D spending relabelled as R&D where the super-deduction or the HTE notch pays for it "
        "(`qhsim.firms.relabel`); knowledge, patents, growth and R&D staff follow real R&D. "
        f"Beside the table: {info}."
    )
    L.append("")
    checks = table[table["kind"] == "check"]
    if len(checks):
        L.append("Checked against the evidence but not used by the calibration's evidence step: the R&D switches of "
                 f"the above-scale industrial firms in the baseline runs of the same seeds, {SWITCH_YEARS[0] - 1}→"
                 f"{SWITCH_YEARS[-1]} pooled.")
        L.append("")
        L.extend(evidence_rows(checks, "check", sources=True))
        L.append("")
    return L


def evidence_rows(table: pd.DataFrame, heading: str, sources: bool) -> list[str]:
    """A Markdown table of ``policy_responses`` rows: model mean ± its standard error, seed sd, evidence range,
    inside (``verdict``; and the sources)."""
    L = [f"| {heading} | model (mean ± s.e.) | seed sd | evidence range | inside |" + (" evidence |" if sources else ""),
         "|---|---|---|---|---|" + ("---|" if sources else "")]
    for _, r in table.iterrows():
        L.append(f"| {r.label} | {r.model:.3g} ± {r.standard_error:.2g} | {r.seed_sd:.2g} | "
                 f"{evidence_range(r.low, r.high)} | {verdict(r)} |" + (f" {r.evidence} |" if sources else ""))
    return L


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="policy responses of the model's defaults beside the evidence")
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args(argv)
    seeds = tuple(range(1, args.seeds + 1))
    table = policy_responses(None, seeds, args.scale, args.workers)
    print("\n".join(section_lines(table, seeds, args.scale, "The model's defaults")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

