"""benchmarks/mutation_check.py stays in step with the code: every planted bug still applies to exactly one place
and names tests that exist (run the script itself to see that each is caught)."""

from __future__ import annotations

import importlib.util
import sys

from conftest import ROOT


def load_script():
    spec = importlib.util.spec_from_file_location("mutation_check", ROOT / "benchmarks" / "mutation_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_every_mutant_patch_still_applies():
    mc = load_script()
    errors = mc.check_patches(mc.MUTANTS)
    assert not errors, "update benchmarks/mutation_check.py to the changed code:\n" + "\n".join(errors)
    names = [m.name for m in mc.MUTANTS]
    assert len(names) == len(set(names)) >= 20
    assert all(m.old != m.new and m.tests for m in mc.MUTANTS)
