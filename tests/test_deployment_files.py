"""docker-compose.yml, the Procfile and .env.example name real entry points and real settings;
the lock files pin what pyproject.toml asks for.

No Docker engine runs here, so this checks what can be checked without one.
"""

from __future__ import annotations

import ast
import importlib.util
import shlex
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import click
import pytest
import yaml
from flask import Flask
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from newsletter.config import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
PROCFILE = {
    name: command.strip()
    for name, _, command in (
        line.partition(":") for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
}
# Variables the images and libraries themselves read, beside our settings.
FOREIGN_VARIABLES = {
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_DB",
    "INSTANCE_PATH",
    "PROMETHEUS_MULTIPROC_DIR",  # prometheus_client's samples folder (delivery/metrics.py)
}


def module_defines(target: str) -> bool:
    """'package.module:name': the module exists and assigns `name` at top level."""
    module, _, attribute = target.partition(":")
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return False
    tree = ast.parse(Path(spec.origin).read_text())
    assigned = {
        t.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    return attribute in assigned


def cli_commands(app: Flask) -> dict[str, click.Command]:
    """Our commands plus those that extensions plug into every Flask CLI (`db`)."""
    plugged = {ep.name: ep.load() for ep in entry_points(group="flask.commands")}
    return {**plugged, **app.cli.commands}


def check_command(argv: list[str], app: Flask) -> None:
    program = argv[0]
    if program == "gunicorn":
        assert module_defines(argv[-1].strip('"')), argv
    elif program == "celery":
        assert argv[1] == "-A" and module_defines(argv[2]), argv
        assert argv[3] in {"worker", "beat"}, argv
    elif program == "newsletter":
        scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
        assert scripts["newsletter"] == "newsletter.cli:main"
        command = cli_commands(app).get(argv[1])
        assert command is not None, f"no `newsletter {argv[1]}` command"
        if len(argv) > 2 and not argv[2].startswith("-"):
            assert isinstance(command, click.Group) and argv[2] in command.commands, argv
    else:
        pytest.fail(f"unknown program {program!r} in {argv}")


APP_SERVICES = [name for name, service in COMPOSE["services"].items() if "build" in service]


def test_compose_runs_the_whole_service() -> None:
    assert set(COMPOSE["services"]) >= {"postgres", "redis", "web", "worker", "beat", "mailpit"}
    for name in ("postgres", "redis", "web", "worker", "mailpit"):
        assert "healthcheck" in COMPOSE["services"][name], name
    assert {"postgres-data", "redis-data"} <= set(COMPOSE["volumes"])


def test_web_and_worker_share_one_metrics_volume_at_the_samples_folder() -> None:
    # The worker writes send latency there, web sums it at /metrics: the same files for both.
    mounts = {}
    for name in ("web", "worker"):
        service = COMPOSE["services"][name]
        folder = service["environment"]["PROMETHEUS_MULTIPROC_DIR"]
        mounted = {
            target: source
            for source, _, target in (v.partition(":") for v in service.get("volumes", []))
        }
        assert folder in mounted, f"{name} does not mount {folder}"
        mounts[name] = (mounted[folder], folder)
    assert mounts["web"] == mounts["worker"]
    assert mounts["web"][0] in COMPOSE["volumes"]  # a named volume, not a path on the host
    # The image creates the folder, so the volume belongs to the unprivileged user.
    assert mounts["web"][1] in (ROOT / "Dockerfile").read_text()


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_compose_command_names_a_real_entry_point(service: str, app: Flask) -> None:
    check_command(COMPOSE["services"][service]["command"], app)


@pytest.mark.parametrize("process", sorted(PROCFILE))
def test_every_procfile_command_names_a_real_entry_point(process: str, app: Flask) -> None:
    argv = shlex.split(PROCFILE[process])
    # `exec`: honcho starts each line in a shell; the process itself must get the signals.
    assert argv[0] == "exec"
    check_command(argv[1:], app)


def test_compose_and_env_example_set_only_variables_the_config_reads() -> None:
    names: set[str] = set()
    for service in COMPOSE["services"].values():
        names |= set(service.get("environment", {}))
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            names.add(line.split("=", 1)[0])
    unknown = names - set(SETTINGS) - FOREIGN_VARIABLES
    assert unknown == set()


# What `make lock` writes: the runtime pins (the image), and those plus the dev extra.
RUNTIME_LOCK, DEV_LOCK = "requirements.lock", "requirements-dev.lock"
DEV_TOOLS = {"pytest", "mypy", "ruff", "honcho", "pip-tools", "playwright"}


def pins(lock: str) -> dict[str, str]:
    """{normalized name: version} of a pip-compile output (`name==version` lines)."""
    found = {}
    for line in (ROOT / lock).read_text().splitlines():
        name, sep, version = line.partition("==")
        if sep and not line.startswith((" ", "#")):
            found[canonicalize_name(name)] = version.strip()
    return found


def test_the_locks_pin_every_dependency_of_pyproject_at_a_version_it_allows() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = [Requirement(r) for r in project["dependencies"]]
    dev = [Requirement(r) for r in project["optional-dependencies"]["dev"]]
    for lock, wanted in ((RUNTIME_LOCK, runtime), (DEV_LOCK, runtime + dev)):
        pinned = pins(lock)
        for requirement in wanted:
            version = pinned.get(canonicalize_name(requirement.name))
            assert version, f"{requirement.name} is not pinned in {lock}: run `make lock`"
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{lock} pins {requirement.name}=={version}, pyproject.toml asks for "
                f"{requirement}: run `make lock`"
            )


def test_the_dev_lock_holds_the_runtime_pins_and_the_image_no_dev_tool() -> None:
    runtime, dev = pins(RUNTIME_LOCK), pins(DEV_LOCK)
    assert {name: dev.get(name) for name in runtime} == runtime  # tests run what production runs
    assert not DEV_TOOLS & set(runtime)
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"pip install -r {RUNTIME_LOCK}" in dockerfile
    assert "pip install --no-deps -e ." in dockerfile
    makefile = (ROOT / "Makefile").read_text()
    assert f"pip install --quiet -r {DEV_LOCK}" in makefile
