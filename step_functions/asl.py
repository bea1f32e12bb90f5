"""Reading Amazon States Language files: placeholders, substitution, task integrations,
reachability.

Pure functions over the JSON text, kept next to the ASL they read: the orchestration
construct (cdk/orchestration.py) derives the state machine's IAM actions from the
integrations a definition really uses and hands the placeholders to CDK; the local
twin (local_twin/provision.py) substitutes them itself, with the same pattern; the
tests check both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PLACEHOLDER_PATTERN = re.compile(r"\$\{([A-Za-z][A-Za-z0-9_]*)\}")
# The stack targets the `aws` partition only (cdk.json's target partitions: Powertools
# publishes its layer parameters there alone, cdk/ingestion.py), so integrations are
# written `arn:aws:states:::`, which cfn-lint's state machine schema also requires.
_SERVICE_INTEGRATION_PREFIX = "arn:aws:states:::"


class AslError(ValueError):
    """An ASL file is unreadable or inconsistent; the message names the file and state."""


def load_definition(path: Path) -> tuple[str, dict[str, Any]]:
    """Return the raw text (for an inline definition) and its parsed JSON."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AslError(
            f"{path}: state machine definition not found; it belongs to the orchestration "
            "part (step_functions/), which must exist before the stack can synthesize"
        ) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise AslError(
            f"{path}: line {error.lineno}, column {error.colno}: not valid JSON ({error.msg}); "
            'placeholders must sit inside JSON strings, e.g. "${GlueJobName}"'
        ) from None
    if not isinstance(document, dict) or "StartAt" not in document or "States" not in document:
        raise AslError(f"{path}: not a state machine (needs top-level StartAt and States)")
    return text, document


def placeholders(text: str) -> set[str]:
    """Names of the `${Name}` definition substitutions used in an ASL text."""
    return set(PLACEHOLDER_PATTERN.findall(text))


def substitute(text: str, values: dict[str, str], *, source: object = "definition") -> str:
    """Fill `${Placeholders}` the way CDK's definition_substitutions do; refuse leftovers."""
    missing = sorted(placeholders(text) - set(values))
    if missing:
        raise AslError(f"{source}: no value for placeholder(s) {missing}")
    return PLACEHOLDER_PATTERN.sub(lambda match: values[match.group(1)], text)


def iter_states(machine: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state, including those nested in Map and Parallel, with a readable path."""
    for name, state in machine.get("States", {}).items():
        state_path = f"{path}/{name}" if path else name
        yield state_path, state
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), dict):
                yield from iter_states(state[key], state_path)
        for index, branch in enumerate(state.get("Branches", []) or []):
            yield from iter_states(branch, f"{state_path}[{index}]")


def task_integrations(document: dict[str, Any]) -> dict[str, set[str]]:
    """Map each service-integration resource (e.g. `glue:startJobRun.sync`) to its states."""
    found: dict[str, set[str]] = {}
    for state_path, state in iter_states(document):
        if state.get("Type") != "Task":
            continue
        resource = state.get("Resource", "")
        if not resource.startswith(_SERVICE_INTEGRATION_PREFIX):
            raise AslError(
                f"state {state_path}: Resource {resource!r} is not a service integration "
                f"({_SERVICE_INTEGRATION_PREFIX}...); Lambda ARNs are not part of this pipeline"
            )
        found.setdefault(resource[len(_SERVICE_INTEGRATION_PREFIX) :], set()).add(state_path)
    return found


def _transitions(state: dict[str, Any]) -> set[str]:
    targets: set[str] = set()
    if "Next" in state:
        targets.add(state["Next"])
    if "Default" in state:
        targets.add(state["Default"])
    for choice in state.get("Choices", []) or []:
        if "Next" in choice:
            targets.add(choice["Next"])
    for catcher in state.get("Catch", []) or []:
        if "Next" in catcher:
            targets.add(catcher["Next"])
    return targets


def unreachable_states(machine: dict[str, Any]) -> list[str]:
    """States (at every nesting level) that no path from StartAt reaches."""
    problems: list[str] = []
    _check_machine(machine, "", problems)
    return problems


def _check_machine(machine: dict[str, Any], path: str, problems: list[str]) -> None:
    states: dict[str, Any] = machine.get("States", {})
    start = machine.get("StartAt")
    where = path or "top level"
    if start not in states:
        problems.append(f"{where}: StartAt {start!r} is not a state")
        return
    seen: set[str] = set()
    pending = [start]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for target in _transitions(states[name]):
            if target not in states:
                problems.append(f"{where}: state {name!r} goes to unknown state {target!r}")
            else:
                pending.append(target)
    problems.extend(
        f"{where}: state {name!r} is unreachable" for name in states if name not in seen
    )
    for name, state in states.items():
        inner_path = f"{path}/{name}" if path else name
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), dict):
                _check_machine(state[key], inner_path, problems)
        for index, branch in enumerate(state.get("Branches", []) or []):
            _check_machine(branch, f"{inner_path}[{index}]", problems)
