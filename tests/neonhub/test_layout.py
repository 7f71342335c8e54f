"""The import contracts in pyproject.toml name the agents' brains one by one: keep that list whole."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import agents

ROOT = Path(__file__).resolve().parents[2]


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {c["name"]: c for c in config["contracts"]}


def test_every_module_of_agents_is_a_brain_or_one_of_the_two_domains():
    modules = {f"agents.{m.name}" for m in pkgutil.iter_modules(agents.__path__)}
    domains = {"agents.audience", "agents.automation"}
    contract = _contracts()["The audience imports neither the agents' brains nor automation"]
    brains = set(contract["forbidden_modules"]) - domains
    assert modules - domains == brains


def test_the_same_brains_may_not_import_automation():
    contracts = _contracts()
    audience = set(
        contracts["The audience imports neither the agents' brains nor automation"][
            "forbidden_modules"
        ]
    )
    sources = set(contracts["Nothing imports automation but the wiring"]["source_modules"])
    assert audience - {"agents.automation"} <= sources
