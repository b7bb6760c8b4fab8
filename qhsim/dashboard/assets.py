"""Solara's front-end files 前端资源, installed from the npm registry so the dashboard works with no internet.

``solara`` serves its JavaScript and CSS through a proxy that fetches them from a public CDN on first use;
with no CDN reachable the page stays blank. This module fills Solara's local asset cache (the folder the
proxy reads first) from npm packages instead:

    python -m qhsim.dashboard.assets                     # npm's configured registry (or a mirror, below)
    python -m qhsim.dashboard.assets --registry https://npm.example.gov.cn/
    python -m qhsim.dashboard.assets --from-dir tarballs/  # air-gapped: *.tgz made by `npm pack` elsewhere

``make dashboard-assets`` runs the first form. The cache is ``$SOLARA_ASSETS_PROXY_CACHE_DIR`` if set,
else ``<venv>/share/solara/cdn`` (Solara's default). ``check()`` lists what is missing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from qhsim.errors import InputError

# npm packages Solara 1.64 loads at run time (solara/server/templates/solara.html.j2, settings.py,
# components/markdown.py, widgets/vue/gridlayout*.vue); a Solara upgrade may change these versions.
PACKAGES = (
    "@widgetti/solara-vuetify-app@10.1.1",
    "requirejs@2.3.6",
    "font-awesome@4.5.0",
    "@widgetti/vue-grid-layout@2.3.13-alpha.2",
    "katex@0.16.9",
    "mermaid@10.8.0",
)
# one file per package that must exist for the page to load (checked by ``check``)
PROBES = {
    "@widgetti/solara-vuetify-app@10.1.1": "dist/solara-vuetify-app8.min.js",
    "requirejs@2.3.6": "require.js",
    "font-awesome@4.5.0": "css/font-awesome.min.css",
}


def cache_dir() -> Path:
    """Solara's asset cache: the folder its CDN proxy reads before it tries the network."""
    env = os.environ.get("SOLARA_ASSETS_PROXY_CACHE_DIR")
    if env:
        return Path(env)
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def missing(cache: Path | None = None) -> list[str]:
    """Packages whose key file is not in the cache (empty when the dashboard can run offline)."""
    cache = cache_dir() if cache is None else cache
    return [pkg for pkg, probe in PROBES.items() if not (cache / pkg / probe).is_file()]


def _tarball_name(package: str) -> str:
    """The file name ``npm pack`` gives a package: ``@scope/name@1.0`` -> ``scope-name-1.0.tgz``."""
    name, _, version = package.rpartition("@")
    return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


def _unpack(tgz: Path, target: Path) -> None:
    """Unpack an npm tarball (files under ``package/``) into ``target``, atomically."""
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tarfile.open(tgz) as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if not parts or ".." in parts or not (member.isfile() or member.isdir()):
                continue
            member.name = str(Path(*parts[1:])) if len(parts) > 1 else "."
            tar.extract(member, tmp, filter="data")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)


def _npm_pack(packages: list[str], dest: Path, registry: str | None) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise InputError("npm not found: install Node.js/npm, or fetch the tarballs elsewhere and use --from-dir")
    cmd = [npm, "pack", "--silent", "--pack-destination", str(dest), *packages]
    if registry:
        cmd += ["--registry", registry]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise InputError(f"npm pack failed ({registry or 'npm registry'}): {done.stderr.strip().splitlines()[-1:]}")


def install(cache: Path | None = None, registry: str | None = None, from_dir: Path | None = None,
            force: bool = False) -> list[str]:
    """Put every package of ``PACKAGES`` into the cache; return the ones installed now."""
    cache = cache_dir() if cache is None else Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    todo = [pkg for pkg in PACKAGES if force or not (cache / pkg / "package.json").is_file()]
    if not todo:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(from_dir) if from_dir else Path(tmp)
        if from_dir is None:
            _npm_pack(todo, source, registry)
        for pkg in todo:
            tgz = source / _tarball_name(pkg)
            if not tgz.is_file():
                raise InputError(f"{tgz}: tarball of {pkg} not found (make it with `npm pack {pkg}`)")
            target = cache / pkg
            target.parent.mkdir(parents=True, exist_ok=True)
            _unpack(tgz, target)
    return todo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qhsim.dashboard.assets", description=__doc__.split("\n")[0])
    parser.add_argument("--registry", default=os.environ.get("NPM_REGISTRY"),
                        help="npm registry or intranet mirror URL (default: $NPM_REGISTRY, else npm's own setting)")
    parser.add_argument("--from-dir", type=Path, help="folder of .tgz files made by `npm pack` (no network)")
    parser.add_argument("--cache", type=Path, help="asset cache folder (default: Solara's)")
    parser.add_argument("--force", action="store_true", help="reinstall packages already present")
    args = parser.parse_args(argv)
    try:
        done = install(args.cache, args.registry, args.from_dir, args.force)
    except InputError as exc:
        print(f"qhsim: error: {exc}", file=sys.stderr)
        return exc.exit_code
    cache = args.cache or cache_dir()
    print(f"Solara assets 前端资源 in {cache}: " + (f"installed {', '.join(done)}" if done else "already complete"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
