"""Calibration 校准 (MODEL.md §6; issue #4): targets, ABC-SMC estimation, fit report, sensitivity, projections.

Public API:

- ``calibrated_parameters()``: point estimates from ``calibration/calibrated.toml`` for model defaults
- ``load_calibration()``: the whole calibration (point, intervals, weighted posterior ensemble)
- ``project(scenario, draws, seeds)``: parameter draws x seeds -> indicator frame with a ``draw`` column
- ``calibrate(load_config("full"), workers=2)``: run the estimation (also ``qhsim calibrate``)
"""

from qhsim.calibration.ensemble import calibrated_parameters, load_calibration

__all__ = ["calibrated_parameters", "load_calibration", "project", "calibrate", "load_config"]


def __getattr__(name: str):  # lazy: the model layer imports this package without the heavy parts
    if name == "project":
        from qhsim.calibration.projection import project

        return project
    if name == "calibrate":
        from qhsim.calibration.calibrate import calibrate

        return calibrate
    if name == "load_config":
        from qhsim.calibration.settings import load_config

        return load_config
    raise AttributeError(name)
