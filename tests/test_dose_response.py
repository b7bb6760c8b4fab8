"""benchmarks/dose_response.py: the evidence verdict of each strength and the strength up to which a lever stays
inside the evidence (the runs themselves are the experiments engine's, tested elsewhere)."""

import pandas as pd
import pytest

from conftest import benchmark_script


@pytest.fixture(scope="module")
def dose():
    return benchmark_script("dose_response")


def test_verdict_is_compares_rule_on_the_seed_range(dose):
    assert dose.verdict("tax_leverage", 1.5, 1.9) == "inside"
    assert dose.verdict("tax_leverage", 1.9, 2.2) == "inside"  # straddles the edge: not marked, as compare
    assert dose.verdict("tax_leverage", 2.05, 2.2) == "**above**"
    assert dose.verdict("grant_leverage", 0.2, 0.45) == "**below**"
    assert dose.verdict("tax_leverage", float("nan"), 2.0) == "—"


def test_summary_and_supported_range(dose):
    rows = [{"instrument": "tax", "strength": d, "seed": s, "rd_per_yuan": v + 0.01 * s}
            for d, v in ((1.2, 1.8), (1.5, 1.985), (2.0, 2.3), (2.5, 1.9)) for s in (1, 2)]
    rows += [{"instrument": "grant", "strength": m, "seed": s, "rd_per_yuan": 1.1} for m in (1.5, 2.0) for s in (1, 2)]
    table = dose.summary(pd.DataFrame(rows))
    tax = table[table["instrument"] == "tax"].set_index("strength")
    assert tax.loc[2.0, "verdict"] == "**above**" and tax.loc[1.5, "verdict"] == "inside"  # [1.995, 2.005]
    assert tax.loc[1.2, "rd_per_yuan_min"] == pytest.approx(1.81) and tax.loc[1.2, "rd_per_yuan_max"] == pytest.approx(1.82)
    # the first strength outside ends the supported range, even if a stronger one falls back inside
    assert dose.supported_up_to(table, "tax") == 1.5
    assert dose.supported_up_to(table, "grant") == 2.0
