"""Reading TOML data files into pydantic models, with errors that name the file and the key."""

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from helios import HeliosError

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Base of every data-file model: unknown keys are errors, no type coercion, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def load(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning I/O and syntax errors into HeliosError naming the file."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise HeliosError(f"{path}: file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise HeliosError(f"{path}: invalid TOML: {exc}") from exc


def _where(data: Any, loc: tuple[int | str, ...]) -> str:
    """A key path such as `distro[2] 'sid'.family`: list items also show their `name`."""
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int) and isinstance(node, list):
            node = node[key] if key < len(node) else None
            name = node.get("name") if isinstance(node, dict) else None
            parts[-1:] = [f"{parts[-1] if parts else ''}[{key + 1}]"]
            if isinstance(name, str):
                parts[-1] += f" {name!r}"
            continue
        parts.append(str(key))
        node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts) or "(top level)"


def problem(path: Path, data: Any, exc: ValidationError) -> HeliosError:
    """One line naming the file, the first bad key and the rule it breaks."""
    first = exc.errors(include_url=False)[0]
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    value = first.get("input")
    scalar = isinstance(value, str | int | float | bool)
    got = (
        f", got {value!r}" if scalar and first["type"] not in ("missing", "extra_forbidden") else ""
    )
    more = exc.error_count() - 1
    tail = f" (and {more} more problem(s))" if more else ""
    return HeliosError(f"{path}: {_where(data, tuple(first['loc']))}: {message}{got}{tail}")


def validated(path: Path, model: type[M]) -> M:
    """Load `path` and validate it as `model`; any problem is one HeliosError line."""
    data = load(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise problem(path, data, exc) from None
