"""qhsim: agent-based simulation of Qinghai Province's regional innovation system (青海区域创新体系仿真)."""

from importlib.metadata import PackageNotFoundError, version

from qhsim import cpu

cpu.pin()  # before anything imports NumPy: one floating-point path on every x86-64 machine (qhsim/cpu.py)

try:
    __version__ = version("qhsim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+source"
