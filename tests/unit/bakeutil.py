"""Reading a rendered bake file in unit tests (python-hcl2 keeps HCL quoting; undo it)."""

import functools
import re
from typing import Any

import hcl2


def unquote(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items() if k != "__is_block__"}
    return value


@functools.lru_cache(maxsize=8)
def _parse(text: str) -> dict[str, Any]:
    return hcl2.loads(text)


def blocks(text: str, kind: str) -> dict[str, Any]:
    """{name: body} for every `kind "name" { ... }` block."""
    found: dict[str, Any] = {}
    for block in _parse(text).get(kind, []):
        found.update(unquote(block))
    return found


def resolved_target(text: str, name: str) -> dict[str, Any]:
    """A target with its `inherits` merged the way bake does (maps merge, child wins)."""
    targets = blocks(text, "target")
    merged: dict[str, Any] = {}
    body = targets[name]
    for parent in body.get("inherits", []):
        for key, value in resolved_target(text, parent).items():
            merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
    for key, value in body.items():
        if key == "inherits":
            continue
        merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
    return merged


def eval_tags(text: str, channel: str, repo: str, version: str, distro: str) -> list[str]:
    """Evaluate the template's tags() function for one channel, like bake would."""
    result = blocks(text, "function")["tags"]["result"]
    table = dict(re.findall(r"(\w+) = \[([^\]]*)\]", result))
    if channel not in table:
        raise KeyError(channel)
    values = {"HELIOS_REPO": repo, "HELIOS_VERSION": version, "distro": distro}
    items = re.findall(r'"((?:[^"\\]|\\.)*)"', table[channel])
    return [re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], item) for item in items]
