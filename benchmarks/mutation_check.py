"""Mutation check 变异检验: plant known bugs one at a time in a scratch copy and see whether the tests catch them.

    .venv/bin/python benchmarks/mutation_check.py            # every mutant
    .venv/bin/python benchmarks/mutation_check.py -k tax     # mutants whose name contains "tax"
    .venv/bin/python benchmarks/mutation_check.py --list

Each mutant is a precise source patch (an exact snippet that must occur exactly once, and its replacement)
plus the part of the test suite that should catch it: test files that CI runs (`make test` runs all of
tests/). The script copies the repository's tracked files to a scratch folder, checks that those tests pass
unmutated, then for each mutant patches one file, runs its tests with the project's Python (stopping at the
first failure), restores the file, and prints mutant -> caught / SURVIVED and the first failing test. A patch
that no longer applies is an error (exit code 2): the list must follow the code, not rot silently
(tests/test_mutation_list.py, part of `make test`, checks that every patch still applies).
Exit code: 0 if every mutant is caught, 1 if any survived.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from qhsim.cli import Parser, run_script

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    name: str
    why: str  # the bug, in words
    file: str
    old: str
    new: str
    tests: tuple[str, ...]


M = Mutant
MUTANTS: tuple[Mutant, ...] = (
    # --- the bugs planted by the review of issue #12 -------------------------------------------------------------
    M("draws_keyed_by_position", "keyed draws use the array position instead of the firm id",
      "qhsim/draws.py",
      "z = np.uint64(uids[i] if at is None else uids[at[i]]) * _GOLDEN + stream",
      "z = np.uint64(i) * _GOLDEN + stream",
      ("tests/test_crn.py",)),
    M("draws_ignore_seed", "the seed is ignored in keyed draws",
      "qhsim/draws.py",
      "np.uint64(_mix_int(code ^ int(self._seed_key)))",
      "np.uint64(_mix_int(code))",
      ("tests/test_crn.py",)),
    M("super_deduction_no_profit_cap", "super-deduction tax expenditure without its profit cap",
      "qhsim/firms/carry_forward.py",
      "used[r] = np.minimum(deduction[r], taxable[r])",
      "used[r] = deduction[r]",
      ("tests/test_tax_expenditure.py", "tests/test_carry_forward.py")),
    M("carried_deductions_never_lapse", "a carried super-deduction outlives its carry-forward period",
      "qhsim/firms/carry_forward.py",
      "keep = there[firm] & ((age <= years) | (self.extended & (age <= extended_years)))",
      "keep = there[firm]",
      ("tests/test_carry_forward.py",)),
    M("operating_losses_not_carried", "a firm's older operating losses do not take its profit before its carried "
      "deductions", "qhsim/firms/carry_forward.py",
      "take = min(loss_without[k], room_without)",
      "take = 0.0",
      ("tests/test_carry_forward.py",)),
    M("hte_rate_sign_flipped", "sign of the HTE-rate tax expenditure flipped",
      "qhsim/firms/rd.py",
      "hte_rate[h] = (tau_alt[h] - tau[h]) * taxable[h]",
      "hte_rate[h] = (tau[h] - tau_alt[h]) * taxable[h]",
      ("tests/test_tax_expenditure.py",)),
    M("turnover_not_scaled", "technology-contract turnover not divided by the run's scale",
      "qhsim/knowledge/system.py",
      '"tech_contract_turnover": wp(market.turnover) / s / WAN_PER_YI,',
      '"tech_contract_turnover": wp(market.turnover) / WAN_PER_YI,',
      ("tests/test_scale_invariance.py",)),
    M("giant_quota_not_scaled", "the little-giant quota not scaled to the simulated population",
      "qhsim/model.py",
      'certified = certify(f, pol, b, self.draws, self._giant_quota("giant", pol.giant_quota), fte_cost)',
      "certified = certify(f, pol, b, self.draws, pol.giant_quota, fte_cost)",
      ("tests/test_scale_invariance.py",)),
    M("objective_ignores_prefectures", "the calibration objective silently ignores prefecture targets",
      "qhsim/calibration/objective.py",
      '            if fit.status == "not_yet_modelled":\n                continue\n            if fit.status == "nan":',
      '            if fit.status == "not_yet_modelled" or fit.target.region != "province":\n                continue\n'
      '            if fit.status == "nan":',
      ("tests/test_calibration_checks.py",)),
    M("objective_ignores_last_target", "the calibration objective silently ignores the last target",
      "qhsim/calibration/objective.py",
      "        for fit in self.fits(cells):\n            if fit.status == \"not_yet_modelled\":",
      "        for fit in self.fits(cells)[:-1]:\n            if fit.status == \"not_yet_modelled\":",
      ("tests/test_calibration_checks.py",)),
    # --- tests that proved less than they claimed ------------------------------------------------------------------
    M("abc_without_rejection", "ABC-SMC accepts every proposal (no rejection step)",
      "qhsim/calibration/abc_smc.py",
      "if dd <= eps and len(acc_ids) < n:",
      "if len(acc_ids) < n:",
      ("tests/test_calibration_checks.py",)),
    M("sensitivity_factors_swapped", "sensitivity indices attached to the wrong factors",
      "qhsim/calibration/sensitivity.py",
      "**{key: float(r[key][j]) for key in keys}",
      "**{key: float(r[key][len(factors) - 1 - j]) for key in keys}",
      ("tests/test_calibration_checks.py",)),
    M("sensitivity_base_point_dropped", "sensitivity runs ignore the calibrated base point (data-file values instead)",
      "qhsim/calibration/sensitivity.py",
      "params, policy = dict(base), {}",
      "params, policy = {}, {}",
      ("tests/test_sensitivity.py",)),
    M("sensitivity_posterior_ranges_ignored", "Sobol over the prior ranges although the config asks for the posterior",
      "qhsim/calibration/sensitivity.py",
      "out.append(Factor(f.name, f.kind, float(lo), float(hi),",
      "out.append(Factor(f.name, f.kind, f.low, f.high,",
      ("tests/test_sensitivity.py",)),
    M("sensitivity_range_leaves_out_the_point", "a posterior range that leaves out the calibrated point is not widened",
      "qhsim/calibration/sensitivity.py",
      "lo, hi, source = min(lo, v), max(hi, v),",
      "lo, hi, source = lo, hi,",
      ("tests/test_sensitivity.py",)),
    M("abc_ignores_held_levels", "the ABC-SMC runs its particles with the level parameters at their defaults although "
      "the configuration's held_levels names other values", "qhsim/calibration/calibrate.py",
      "(i, {**th, **problem.held_values}, {})",
      "(i, th, {})",
      ("tests/test_calibration.py",)),
    M("spinoff_staff_at_zero_rd", "spin-off researchers counted at new firms with zero R&D",
      "qhsim/knowledge/talent.py",
      "counted = p.resident & (p.kind != NONE) & ~(is_firm & (pos < 0))",
      "counted = p.resident & (p.kind != NONE)",
      ("tests/test_knowledge.py::test_rd_personnel_invariant_holds_every_year_on_every_seed",)),
    M("results_in_completion_order", "parallel results assembled in order of completion",
      "qhsim/calibration/parallel.py",
      "per_seed = [partial[t][i] for i in range(n)]",
      "per_seed = list(partial[t].values())",
      ("tests/test_calibration_checks.py",)),
    # --- more bugs of the same kinds ------------------------------------------------------------------------------
    M("grants_ignore_budget", "ex-ante grants fund every applicant regardless of the budget",
      "qhsim/government/programmes.py",
      "funded = order[np.cumsum(size[order]) <= budget]",
      "funded = order",
      ("tests/test_programmes.py",)),
    M("expost_not_pro_rata", "ex-post subsidy claims paid in full when they exceed the budget",
      "qhsim/government/programmes.py",
      "return claims if total <= budget else claims * (budget / total)",
      "return claims",
      ("tests/test_programmes.py",)),
    M("business_rd_not_scaled", "business R&D indicator not divided by the run's scale",
      "qhsim/indicators.py",
      "business_rd = rd_sum / scale / WAN_PER_YI",
      "business_rd = rd_sum / WAN_PER_YI",
      ("tests/test_scale_invariance.py",)),
    M("spending_ledger_not_scaled", "governments' ledgers record simulated-scale spending",
      "qhsim/model.py",
      'self.province.record(programme, float(getattr(flows, programme).sum()) / self.scale)',
      'self.province.record(programme, float(getattr(flows, programme).sum()))',
      ("tests/test_programmes.py",)),
    M("calibration_ignored", "the model ignores calibration/calibrated.toml (defaults stay uncalibrated)",
      "qhsim/config/schema.py",
      'return {**data.values("behaviour"), **calibrated_parameters(), **self.parameters}',
      'return {**data.values("behaviour"), **self.parameters}',
      ("tests/test_calibrated_defaults.py",)),
    M("calibration_beats_scenario", "calibrated values override a scenario's own [parameters]",
      "qhsim/config/schema.py",
      'return {**data.values("behaviour"), **calibrated_parameters(), **self.parameters}',
      'return {**data.values("behaviour"), **self.parameters, **calibrated_parameters()}',
      ("tests/test_calibrated_defaults.py",)),
    M("knowledge_ignores_calibration", "calibrated knowledge / talent parameters never reach the knowledge system",
      "qhsim/knowledge/system.py",
      "self.kp = knowledge_parameters(vars(model.b))",
      "self.kp = knowledge_parameters(model.config.parameters)",
      ("tests/test_calibrated_defaults.py",)),
    M("hte_ratio_strict", "the HTE R&D-ratio criterion demands strictly more than the threshold",
      "qhsim/firms/certification.py",
      "ratio_ok = rd3 >= hte_threshold(s.revenue, pol) * rev3 * (1.0 - RATIO_TOLERANCE)",
      "ratio_ok = rd3 > hte_threshold(s.revenue, pol) * rev3 * (1.0 + RATIO_TOLERANCE)",
      ("tests/test_certification.py",)),
    M("switch_clock_not_spent", "a firm that does not switch keeps its whole R&D switching clock",
      "qhsim/model.py",
      '        np.subtract(f.switch_clock, decision["hazard"], out=f.switch_clock)',
      "        pass",
      ("tests/test_model.py",)),
    M("switch_clock_not_by_number", "every switch of a firm draws the same next clock, not one per switch number",
      "qhsim/firms/decision.py",
      'draws.counted_exponential("switch", f.uid, switched, f.switches[switched])',
      'draws.exponential(1, "switch", f.uid, switched)',
      ("tests/test_model.py",)),
    M("start_hazard_is_probability", "the start hazard is the start probability, not -ln(1 - p)",
      "qhsim/firms/rd.py",
      "return np.logaddexp(0.0, logit)",
      "return 1.0 / (1.0 + np.exp(-logit))",
      ("tests/test_kernels.py",)),
    M("ip_clock_not_spent", "an R&D performer without new core IP keeps its whole IP clock",
      "qhsim/firms/dynamics.py",
      "f.ip_clock[doing] = clock - hazard",
      "f.ip_clock[doing] = clock",
      ("tests/test_kernels.py",)),
    M("knowledge_without_rd", "this year's R&D is not added to the knowledge stock",
      "qhsim/firms/dynamics.py",
      "knowledge[i] = knowledge[i] * keep + rd_real[i]",
      "knowledge[i] = knowledge[i] * keep + 0.0",
      ("tests/test_programmes.py",)),
    M("knowledge_from_reported_rd", "relabelled spending creates knowledge: the stock accumulates reported R&D",
      "qhsim/firms/dynamics.py",
      "_accumulate_knowledge(f.knowledge, f.rd_real,",
      "_accumulate_knowledge(f.knowledge, f.rd,",
      ("tests/test_relabel.py",)),
    M("relabel_without_incentive", "firms relabel R&D expenses although no super-deduction pays for it",
      "qhsim/firms/relabel.py",
      "return real * (tau * d) / b.relabel_cost",
      "return real * (0.25 + tau * d) / b.relabel_cost",
      ("tests/test_relabel.py",)),
    M("no_year_end_top_up", "firms never top their books up to the HTE threshold",
      "qhsim/firms/certification.py",
      "    reported[c[ok]] = need[ok]\n",
      "",
      ("tests/test_kernels.py",)),
    M("classification_ignores_hand_set", "the fit report counts hand-set targets as fitted",
      "qhsim/calibration/targets.py",
      "        hand = tuple(n for n in self.set_by_hand if n not in free)",
      "        hand = ()",
      ("tests/test_calibration_claims.py",)),
    M("fingerprint_skips_data", "the model fingerprint ignores the data files",
      "qhsim/calibration/settings.py",
      'toml = sorted(p for p in paths if p.parent == Path("data") and p.suffix == ".toml")',
      "toml = []",
      ("tests/test_calibration_claims.py",)),
    # --- seventeenth session: programme and platform money at host firms is their R&D next year ---------------------
    M("research_funds_not_performed", "programme and platform money at a host firm is never performed as R&D",
      "qhsim/model.py",
      "        f.rd_real[funded] += b.grant_additionality * f.research_funds[funded]\n",
      "",
      ("tests/test_model.py",)),
    M("platform_money_to_knowledge", "a host firm's platform money goes into its knowledge stock, not its R&D",
      "qhsim/knowledge/system.py",
      "        f.research_funds[active] += fv.platform_money",
      "        f.knowledge[active] += fv.platform_money",
      ("tests/test_model.py",)),
    # --- code review, finding 2: mechanisms and policy levers whose direction no test checked ---------------------
    # A rule with a per-firm or per-person reference copy (qhsim/firms/reference.py, qhsim/knowledge/reference.py) is
    # mutated in the vectorised kernel only, with only its directional test: that test alone must catch the error, as
    # it must when the same wrong rule is written in both copies (which the kernel-against-reference tests miss).
    M("hte_reward_to_renewals", "the new-HTE reward is paid on every certificate, not only on first ones",
      "qhsim/model.py",
      "hte_reward[certified[f.hte_since[certified] == year]]",
      "hte_reward[certified]",
      ("tests/test_directions.py::test_the_new_hte_reward_goes_to_first_certificates_only",)),
    M("grant_sme_first_inverted", "the sme_first grant selection puts large firms first",
      "qhsim/government/programmes.py",
      "(f.employees[idx] <= SME_EMPLOYEES)",
      "(f.employees[idx] > SME_EMPLOYEES)",
      ("tests/test_directions.py::test_sme_first_funds_smes_ahead_of_merit",)),
    M("grant_weak_prefecture_inverted", "the weak_prefecture_first grant selection puts Xining first",
      "qhsim/government/programmes.py",
      "(f.pref[idx] != XINING)",
      "(f.pref[idx] == XINING)",
      ("tests/test_directions.py::test_weak_prefecture_first_funds_firms_outside_xining_ahead_of_merit",)),
    M("inst_weak_prefecture_inverted", "institutions' weak_prefecture_first competitive funding favours Xining",
      "qhsim/knowledge/institutions.py",
      "1.0, kp.weak_prefecture_weight)",
      "kp.weak_prefecture_weight, 1.0)",
      ("tests/test_directions.py::test_weak_prefecture_first_moves_competitive_funding_out_of_xining",)),
    M("reward_tiers_ignore_budget", "R&D-intensity rewards paid in full beyond a prefecture's fund",
      "qhsim/government/programmes.py",
      "ratio = np.minimum(np.divide(budget_per_prefecture, claims, out=np.ones(n_prefectures), where=claims > 0), 1.0)",
      "ratio = np.ones(n_prefectures)",
      ("tests/test_directions.py::test_rd_rewards_ration_each_prefecture_within_its_own_fund",)),
    M("reward_tiers_ignore_budget_in_a_run", "the same, caught in a whole run with a fund below Xining's claims",
      "qhsim/government/programmes.py",
      "ratio = np.minimum(np.divide(budget_per_prefecture, claims, out=np.ones(n_prefectures), where=claims > 0), 1.0)",
      "ratio = np.ones(n_prefectures)",
      ("tests/test_model.py::test_rd_reward_funds_ration_each_prefecture",)),
    M("voucher_start_effect_sign", "an innovation voucher lowers the probability of starting R&D",
      "qhsim/firms/rd.py",
      "x = x + voucher_effect * (1.0 if voucher[i] else 0.0)",
      "x = x - voucher_effect * (1.0 if voucher[i] else 0.0)",
      ("tests/test_directions.py::test_a_voucher_raises_the_start_probability_by_its_logit_effect",)),
    M("campaign_start_effect_sign", "the two-zeroings campaign lowers its targets' probability of starting R&D",
      "qhsim/firms/rd.py",
      "out[i] = x + campaign_effect * (1.0 if targeted[i] else 0.0)",
      "out[i] = x - campaign_effect * (1.0 if targeted[i] else 0.0)",
      ("tests/test_directions.py::test_a_two_zeroings_campaign_raises_the_start_probability_of_the_firms_it_targets",)),
    M("knowledge_effect_sign", "a knowledge stock lowers desired R&D intensity",
      "qhsim/firms/rd.py",
      "1.0 + b.knowledge_effect",
      "1.0 - b.knowledge_effect",
      ("tests/test_directions.py::test_a_knowledge_stock_raises_desired_intensity",)),
    M("certified_stop_factor_ignored", "certified firms stop R&D as often as the others",
      "qhsim/firms/rd.py",
      "(c, b.certified_stop_factor, 1.0)",
      "(c, 1.0, 1.0)",
      ("tests/test_directions.py::test_a_certified_firm_stops_rd_less_often",)),
    M("young_exit_factor_swapped", "old firms, not young ones, exit at the young-firm factor",
      "qhsim/firms/dynamics.py",
      "b.young_exit_factor, 1.0)",
      "1.0, b.young_exit_factor)",
      ("tests/test_directions.py::test_young_firms_exit_more_often",)),
    M("exit_size_elasticity_sign", "above the above-scale threshold the exit hazard rises with size",
      "qhsim/firms/dynamics.py",
      "** (-b.exit_size_elasticity)",
      "** (b.exit_size_elasticity)",
      ("tests/test_directions.py::test_exit_hazard_falls_with_size_above_the_threshold",)),
    M("young_departure_effect_sign", "researchers under 35 leave Qinghai less often, not more",
      "qhsim/knowledge/talent.py",
      "+ kp.depart_young_effect *",
      "- kp.depart_young_effect *",
      ("tests/test_directions.py::test_a_younger_researcher_leaves_qinghai_more_often",)),
    M("amenity_sign_in_attraction", "remote prefectures (higher amenity cost) attract outside candidates more",
      "qhsim/knowledge/talent.py",
      "np.log(w_out) - amenity",
      "np.log(w_out) + amenity",
      ("tests/test_directions.py::test_a_remote_prefecture_attracts_fewer_and_loses_more_researchers",)),
    M("past_partner_bonus_sign", "technology buyers avoid their past partner",
      "qhsim/knowledge/market.py",
      "kp.market_past_partner_bonus)",
      "-kp.market_past_partner_bonus)",
      ("tests/test_directions.py::test_buyers_return_to_their_past_partner",)),
    M("literacy_forgetting_sign", "literacy forgetting raises literacy",
      "qhsim/knowledge/literacy.py",
      "- kp.literacy_forgetting",
      "+ kp.literacy_forgetting",
      ("tests/test_directions.py::test_literacy_forgetting_lowers_literacy",)),
    M("merit_knowledge_elasticity_sign", "competitive merit falls with an institution's knowledge per researcher",
      "qhsim/knowledge/institutions.py",
      "** kp.merit_knowledge_elasticity",
      "** (-kp.merit_knowledge_elasticity)",
      ("tests/test_directions.py::test_competitive_funding_rises_with_knowledge_per_researcher",)),
    M("central_growth_sign", "central core funding shrinks at the central growth rate",
      "qhsim/knowledge/institutions.py",
      "1.0 + kpol.central_growth",
      "1.0 - kpol.central_growth",
      ("tests/test_directions.py::test_central_core_funding_grows_at_the_central_growth_rate",)),
    M("platform_subsidy_effect_sign", "a provincial platform subsidy lowers the application probability",
      "qhsim/knowledge/platforms.py",
      "1.0 + kp.platform_subsidy_effect * sub_prov",
      "1.0 - kp.platform_subsidy_effect * sub_prov",
      ("tests/test_directions.py::test_a_platform_subsidy_raises_applications",)),
    M("incubator_support_sign", "incubator support raises incubators' failure rate",
      "qhsim/knowledge/platforms.py",
      "np.exp(-kp.incubator_support_effect",
      "np.exp(kp.incubator_support_effect",
      ("tests/test_directions.py::test_incubator_support_lowers_incubator_failures",)),
    M("giant_slowest_first", "the little-giant intake takes the slowest growers first",
      "qhsim/firms/ladder.py",
      "(uid[idx], -growth)",
      "(uid[idx], growth)",
      ("tests/test_directions.py::test_little_giants_are_the_fastest_growers",)),
)


SKIP_DIRS = {".git", ".venv", "results", "__pycache__", "node_modules", ".pytest_cache"}


def repo_files() -> list[str]:
    """The working tree's files: tracked and untracked-but-not-ignored (git), else everything but SKIP_DIRS."""
    git = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                         capture_output=True, check=False)
    if git.returncode == 0:
        return [p for p in git.stdout.decode().split("\0") if p]
    return [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
            if p.is_file() and not SKIP_DIRS & set(p.relative_to(ROOT).parts)]


def copy_repo(dest: Path) -> None:
    for rel in repo_files():
        src = ROOT / rel
        if src.is_file():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)


def check_patches(mutants: tuple[Mutant, ...]) -> list[str]:
    errors = []
    for m in mutants:
        text = (ROOT / m.file).read_text(encoding="utf-8")
        n = text.count(m.old)
        if n != 1:
            errors.append(f"{m.name}: {m.file}: the snippet to mutate occurs {n} times (expected exactly once): {m.old!r}")
        for t in m.tests:
            if not (ROOT / t.split("::")[0]).is_file():
                errors.append(f"{m.name}: test file {t} does not exist")
    return errors


def run_tests(scratch: Path, tests: tuple[str, ...], python: str) -> tuple[bool, str, float]:
    env = {**os.environ, "PYTHONPATH": str(scratch), "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.perf_counter()
    proc = subprocess.run(
        [python, "-m", "pytest", "-x", "-q", "-rf", "-p", "no:cacheprovider", *tests],
        cwd=scratch, env=env, capture_output=True, text=True, check=False,
    )
    secs = time.perf_counter() - started
    failed = re.findall(r"^FAILED (\S+)", proc.stdout, re.M)
    if proc.returncode == 0:
        return True, "", secs
    if failed:
        return False, failed[0], secs
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["?"]
    return False, f"(pytest exit {proc.returncode}: {tail[0][:80]})", secs


def main(argv: list[str] | None = None) -> int:
    ap = Parser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", default="", help="only mutants whose name contains one of these (comma-separated)")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"), help="interpreter with the test deps")
    args = ap.parse_args(argv)
    mutants = tuple(m for m in MUTANTS if any(k in m.name for k in args.k.split(",")))
    if args.list:
        for m in mutants:
            print(f"{m.name:32s} {m.file:36s} {m.why}")
        return 0
    errors = check_patches(mutants)
    if errors:
        for e in errors:
            print(f"mutation_check: {e}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="qhsim-mutants-") as tmp:
        scratch = Path(tmp) / "repo"
        copy_repo(scratch)
        probe = subprocess.run([args.python, "-c", "import qhsim; print(qhsim.__file__)"], cwd=scratch,
                               env={**os.environ, "PYTHONPATH": str(scratch)}, capture_output=True, text=True)
        if not probe.stdout.strip().startswith(str(scratch)):
            print(f"mutation_check: the scratch copy is not the package imported ({probe.stdout.strip()})", file=sys.stderr)
            return 2
        suites = sorted({t for m in mutants for t in m.tests})
        ok, first, secs = run_tests(scratch, tuple(suites), args.python)
        print(f"unmutated: {' '.join(suites)} -> {'pass' if ok else 'FAIL ' + first} ({secs:.0f} s)")
        if not ok:
            print("mutation_check: the tests fail without any mutant; fix them first", file=sys.stderr)
            return 2
        rows = []
        for m in mutants:
            path = scratch / m.file
            original = path.read_text(encoding="utf-8")
            path.write_text(original.replace(m.old, m.new, 1), encoding="utf-8")
            try:
                passed, first, secs = run_tests(scratch, m.tests, args.python)
            finally:
                path.write_text(original, encoding="utf-8")
            rows.append((m, not passed, first, secs))
            print(f"  {m.name:32s} {'caught' if not passed else 'SURVIVED':9s} {secs:5.0f} s  {first}", flush=True)
    print()
    print("| mutant | bug | caught | first failing test |")
    print("|---|---|---|---|")
    for m, caught, first, _ in rows:
        print(f"| `{m.name}` | {m.why} ({m.file}) | {'yes' if caught else '**no**'} | {first or '—'} |")
    survived = [m.name for m, caught, _, _ in rows if not caught]
    print()
    print(f"{len(rows) - len(survived)} of {len(rows)} planted bugs caught" + (f"; survived: {', '.join(survived)}" if survived else ""))
    return 1 if survived else 0


if __name__ == "__main__":
    run_script(main)
