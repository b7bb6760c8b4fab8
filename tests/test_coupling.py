"""benchmarks/coupling_report.py: paired runs compared unit by unit (light form; the report runs at scale 1)."""

from __future__ import annotations

import pytest

from conftest import SCENARIOS, benchmark_script


def report():
    return benchmark_script("coupling_report")


def test_a_run_paired_with_itself_never_drifts():
    cr = report()
    table, track = cr.couple(SCENARIOS / "baseline.toml", SCENARIOS / "baseline.toml", 3, 0.05, 2019, 1e-9)
    assert (table["% performers R&D differs"] == 0).all() and (table["% people employer differs"] == 0).all()
    assert (table["only in one run"] == 0).all() and not track.first
    assert all(v == 0 for v in track.delta.values())


def test_a_variant_drifts_from_its_first_year_and_the_groups_add_up_to_its_extra_rd():
    """more_ex_ante_grants changes nothing before 2026; afterwards the firms it funds drift first ("direct" or
    through their subsidy), and the groups' extra business R&D adds up to the difference of the two runs'."""
    cr = report()
    base, variant = (cr._model(SCENARIOS / f"{n}.toml", 2, 0.05) for n in ("baseline", "more_ex_ante_grants"))
    table, track = cr.couple(SCENARIOS / "baseline.toml", SCENARIOS / "more_ex_ante_grants.toml", 2, 0.05, 2028, 1e-9)
    assert (table.loc[:2025, "% performers R&D differs"] == 0).all()
    assert table.loc[2026:, "% performers R&D differs"].gt(0).all()
    assert min(year for year, _ in track.first.values()) == 2026
    causes = {cause for _, cause in track.first.values()}
    assert causes & {"direct", "subsidy or certificate"} and causes <= set(cr.CAUSES)
    for m in (base, variant):
        m.run_to(2028)
    rd = [sum(r["business_rd"] for r in m.rows if r["region"] == "province") for m in (base, variant)]
    assert sum(track.delta.values()) == pytest.approx(rd[1] - rd[0], rel=1e-6, abs=1e-9)


def test_voucher_services_are_a_channel_of_their_own():
    """The knowledge bought with innovation vouchers is its own channel: firms gain from it once the baseline's
    voucher budget starts (2018), and the expanded programme changes that gain from its first year."""
    cr = report()
    table, _ = cr.couple(SCENARIOS / "baseline.toml", SCENARIOS / "vouchers_expanded.toml", 2, 0.05, 2027, 1e-9)
    assert (table.loc[:2017, "vouchers: firms with a gain"] == 0).all()
    assert (table.loc[2018:, "vouchers: firms with a gain"] > 0).all()
    assert (table.loc[:2025, "vouchers: Σ|Δgain| 万元"] == 0).all() and (table.loc[2026:, "vouchers: Σ|Δgain| 万元"] > 0).all()
    # the services' knowledge follows the voucher alone: no firm with the same voucher gains differently
    assert (table["vouchers: differs, same inputs"] == 0).all()
