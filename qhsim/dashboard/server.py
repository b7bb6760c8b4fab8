"""``qhsim dashboard``: start the Solara server on localhost, offline (no CDN, no telemetry, no version check)."""

from __future__ import annotations

import argparse
import errno
import os
import socket
import subprocess
import sys

from qhsim.argtypes import port
from qhsim.dashboard import assets
from qhsim.errors import InputError

APP = "qhsim.dashboard.app"


def server_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the server process: nothing goes to the internet."""
    env = dict(os.environ if base is None else base)
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    env.setdefault("MPLBACKEND", "Agg")
    env.setdefault("SOLARA_THEME_SHOW_BANNER", "False")  # its fixed "This website runs on Solara" covered table cells
    env.setdefault("MALLOC_ARENA_MAX", "2")  # each run thread would otherwise keep its own 64 MB malloc arena
    return env


# Solara warns on every first page load that a cookie with samesite=none needs https and that it falls back to
# samesite=lax (12 lines in the terminal; the dashboard serves localhost over http and is not embedded in an iframe, so
# the fallback is what it needs); only that warning is silenced, every other one still shows
QUIET = ("-W", "ignore:Cookies with samesite=none require https:UserWarning")


def command(host: str, port: int, open_browser: bool) -> list[str]:
    return [sys.executable, *QUIET, "-m", "solara", "run", APP, "--host", host, "--port", str(port), "--production",
            "--no-check-version", "--open" if open_browser else "--no-open", "--log-level", "warning"]


def check_listen(host: str, port: int) -> None:
    """Refuse in one line, before the server starts, an address it could not listen on: a port another program holds
    (the web server printed the address as if it were up, then failed with exit code 3) or a host name that is not
    this machine's."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as e:
        raise InputError(f"--host {host}: not an address to listen on ({e.strerror}); e.g. 127.0.0.1 (this machine "
                         "only) or 0.0.0.0 (every network interface)") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server sets it
        try:
            probe.bind(address)
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise InputError(f"--host {host}: cannot listen there ({e.strerror}); e.g. 127.0.0.1 (this machine "
                                 "only) or 0.0.0.0 (every network interface)") from None
            raise InputError(f"--port {port}: {host}:{port} is in use (another dashboard?); choose another port, "
                             f"e.g. --port {port + 1 if port < 65535 else port - 1}") from None


def cmd_dashboard(args: argparse.Namespace) -> int:
    missing = assets.missing()
    if missing:
        raise InputError(f"{assets.cache_dir()}: Solara's front-end assets are missing ({', '.join(missing)}); "
                         "run `make dashboard-assets` (or python -m qhsim.dashboard.assets --registry URL)")
    check_listen(args.host, args.port)
    print(f"仪表盘 Dashboard: http://{args.host}:{args.port}/  (Ctrl-C stops it)", flush=True)
    argv, env = command(args.host, args.port, args.open), server_env()
    if os.name == "posix":  # the server takes this process's place: no idle Python beside it holding ~60 MB
        os.execve(sys.executable, argv, env)
    try:
        return subprocess.call(argv, env=env)
    except KeyboardInterrupt:
        return 0


def add_subcommand(sub) -> None:
    p = sub.add_parser("dashboard", help="start the interactive dashboard (Solara) on this machine")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=port, default=8765, help="port, 1-65535 (default 8765)")
    p.add_argument("--open", action="store_true", help="open it in the default browser")
    p.set_defaults(func=cmd_dashboard)
