"""benchmarks/mutation_check.py stays in step with the code: every planted bug still applies to exactly one place
and names tests that exist (run the script itself to see that each is caught)."""

from __future__ import annotations

from conftest import benchmark_script


def load_script():
    return benchmark_script("mutation_check")


def test_every_mutant_patch_still_applies():
    mc = load_script()
    errors = mc.check_patches(mc.MUTANTS)
    assert not errors, "update benchmarks/mutation_check.py to the changed code:\n" + "\n".join(errors)
    names = [m.name for m in mc.MUTANTS]
    assert len(names) == len(set(names)) >= 20
    assert all(m.old != m.new and m.tests for m in mc.MUTANTS)
