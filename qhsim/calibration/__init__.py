"""Calibration 校准 (MODEL.md §6; issue #4): targets, ABC-SMC estimation, fit report, sensitivity, projections.

Public API:

- ``calibrated_parameters()``: point estimates from ``calibration/calibrated.toml`` for model defaults
- ``load_calibration()``: the whole calibration (point, intervals, weighted posterior ensemble)
- projections over posterior draws x seeds: ``qhsim.experiments.ensemble.project``
- ``calibrate(load_config("full"), workers=2)``: run the estimation (also ``qhsim calibrate``)
"""

from qhsim.calibrated import calibrated_parameters, load_calibration

__all__ = ["calibrated_parameters", "load_calibration", "calibrate", "load_config"]


def __getattr__(name: str):  # lazy: the model layer imports this package without the heavy parts
    if name == "calibrate":
        from qhsim.calibration.calibrate import calibrate

        return calibrate
    if name == "load_config":
        from qhsim.calibration.settings import load_config

        return load_config
    raise AttributeError(name)
