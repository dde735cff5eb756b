"""deploy/restricted/: the kustomize overlay passes Pod Security Standard "restricted".

The overlay is rendered with `kubectl kustomize` (the real kustomize, not a re-implementation)
and every rule of the restricted profile is asserted on the rendered pod, field by field. The
rules are also checked against loosened copies of the pod: each loosening must be caught.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from helios import ROOT

OVERLAY = ROOT / "deploy" / "restricted"
pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")


def render() -> dict[str, dict[str, Any]]:
    out = subprocess.run(
        ["kubectl", "kustomize", str(OVERLAY)], check=True, capture_output=True, text=True
    ).stdout
    return {doc["kind"]: doc for doc in yaml.safe_load_all(out)}


@pytest.fixture(scope="module")
def docs() -> dict[str, dict[str, Any]]:
    return render()


@pytest.fixture(scope="module")
def pod(docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return docs["StatefulSet"]["spec"]["template"]["spec"]


def violations(pod: dict[str, Any]) -> list[str]:
    """The Pod Security Standard "restricted" rules (and Helios' own) the pod spec breaks."""
    found: list[str] = []
    psc = pod.get("securityContext", {})
    for field, want in (("runAsNonRoot", True), ("runAsUser", 1000), ("runAsGroup", 1000)):
        if psc.get(field) != want:
            found.append(f"pod securityContext.{field} != {want!r}")
    if psc.get("fsGroup") != 1000:
        found.append("pod securityContext.fsGroup != 1000")
    if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        found.append("pod seccompProfile is not RuntimeDefault")
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key):
            found.append(f"pod {key}")
    for volume in pod.get("volumes", []):
        if "hostPath" in volume:
            found.append(f"hostPath volume {volume['name']}")
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        found += container_violations(container, psc)
    return found


def container_violations(container: dict[str, Any], psc: dict[str, Any]) -> list[str]:
    name = container["name"]
    sc = container.get("securityContext", {})
    found: list[str] = []
    if sc.get("allowPrivilegeEscalation") is not False:
        found.append(f"{name}: allowPrivilegeEscalation is not false")
    if sc.get("readOnlyRootFilesystem") is not True:
        found.append(f"{name}: readOnlyRootFilesystem is not true")
    if sc.get("privileged"):
        found.append(f"{name}: privileged")
    if sc.get("runAsUser", psc.get("runAsUser")) in (0, None):
        found.append(f"{name}: may run as uid 0")
    if sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is not True:
        found.append(f"{name}: runAsNonRoot is not true")
    caps = sc.get("capabilities", {})
    if caps.get("drop") != ["ALL"]:
        found.append(f"{name}: capabilities do not drop ALL")
    if set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
        found.append(f"{name}: adds capabilities {caps['add']}")
    if sc.get("seccompProfile", {}).get("type", "RuntimeDefault") not in (
        "RuntimeDefault",
        "Localhost",
    ):
        found.append(f"{name}: seccompProfile")
    for port in container.get("ports", []):
        if "hostPort" in port:
            found.append(f"{name}: hostPort {port['hostPort']}")
    return found


def test_rendered_overlay_passes_the_restricted_profile(pod: dict[str, Any]) -> None:
    assert violations(pod) == []


LOOSENINGS = [
    ("securityContext", "runAsNonRoot", False),
    ("securityContext", "runAsUser", 0),
    ("securityContext", "runAsGroup", 0),
    ("securityContext", "fsGroup", 0),
    ("securityContext", "seccompProfile", {"type": "Unconfined"}),
    ("container", "allowPrivilegeEscalation", True),
    ("container", "readOnlyRootFilesystem", False),
    ("container", "capabilities", {"drop": ["NET_RAW"]}),
    ("container", "capabilities", {"drop": ["ALL"], "add": ["SYS_ADMIN"]}),
    ("container", "privileged", True),
    ("container", "runAsUser", 0),
]


@pytest.mark.parametrize(("where", "field", "value"), LOOSENINGS)
def test_each_loosened_field_is_caught(
    pod: dict[str, Any], where: str, field: str, value: object
) -> None:
    loose = copy.deepcopy(pod)
    target = (
        loose["securityContext"]
        if where == "securityContext"
        else (loose["containers"][0].setdefault("securityContext", {}))
    )
    target[field] = value
    assert violations(loose), f"{where}.{field}={value!r} was not caught"


def test_writable_places_are_volumes(pod: dict[str, Any]) -> None:
    (container,) = pod["containers"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/run"]] and "emptyDir" in volumes[mounts["/tmp"]]
    assert mounts["/home"] == "home"  # the PVC of the volumeClaimTemplate


def test_password_comes_from_the_secret_file_readable_by_the_pod_group(
    docs: dict[str, dict[str, Any]], pod: dict[str, Any]
) -> None:
    (container,) = pod["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert "PASSWORD" not in env
    folder, _, key = env["PASSWORD_FILE"]["value"].rpartition("/")
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == folder]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    assert volume["secret"]["secretName"] == docs["Secret"]["metadata"]["name"]
    assert volume["secret"]["defaultMode"] == 0o440
    assert key in docs["Secret"]["data"]


def test_probes_use_health_and_s6_accepts_the_emptydir_run(pod: dict[str, Any]) -> None:
    (container,) = pod["containers"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/health"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["S6_YES_I_WANT_A_WORLD_WRITABLE_RUN_BECAUSE_KUBERNETES"] == "1"
    assert env["S6_READ_ONLY_ROOT"] == "1"
    assert env["UID"] == "1000" and env["GID"] == "1000"
