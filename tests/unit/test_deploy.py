"""The Kubernetes manifests (deploy/), and that Compose and README agree with them."""

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from helios import ROOT, matrix, version

DEPLOY = ROOT / "deploy" / "base"
CURRENT = version.read()
NAMES = matrix.names(matrix.load())
ENV_NAMES = ["USER", "UID", "GID", "PASSWORD"]
# The StatefulSet takes the password from its Secret as a file, never as an env value.
DEPLOY_ENV_NAMES = ["USER", "UID", "GID", "PASSWORD_FILE"]
# Mount path -> ConfigMap key, exactly as the spec's "Mounting" example.
HOOK_MOUNTS = {
    "/etc/helios/init.d/my-custom-init.sh": "my-custom-init.sh",
    "/etc/helios/services.d/custom.sh": "my-custom-service.sh",
}
IMAGE_RE = re.compile(r"^helios:v(?P<version>\d+\.\d+\.\d+)-(?P<distro>[a-z0-9-]+)$")
TAG_RE = re.compile(rf"(?<![\w.-])v(\d+\.\d+\.\d+)-({'|'.join(NAMES)})(?![\w-])")


def load(name: str) -> Any:
    return yaml.safe_load((DEPLOY / name).read_text())


@pytest.fixture(scope="module")
def kustomization() -> dict[str, Any]:
    return load("kustomization.yaml")


@pytest.fixture(scope="module")
def statefulset() -> dict[str, Any]:
    return load("statefulset.yaml")


@pytest.fixture(scope="module")
def container(statefulset) -> dict[str, Any]:
    (only,) = statefulset["spec"]["template"]["spec"]["containers"]
    return only


def generator(kustomization: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    matches = [g for g in kustomization.get(kind, []) if g["name"] == name]
    assert len(matches) == 1, f"kustomization.yaml needs one {kind} named {name}"
    return matches[0]


def env_file(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_kustomization_lists_existing_resources(kustomization):
    assert kustomization["kind"] == "Kustomization"
    kinds = {load(name)["kind"] for name in kustomization["resources"]}
    assert kinds == {"StatefulSet", "Service"}


def test_image_tag_is_the_current_version_and_a_known_distro(container):
    match = IMAGE_RE.match(container["image"])
    assert match, f"image {container['image']!r} must be helios:v<version>-<distro>"
    assert match["version"] == CURRENT, "deploy image tag differs from version.toml"
    assert match["distro"] in NAMES


def test_env_names_and_string_values(container):
    env = container["env"]
    assert [e["name"] for e in env] == DEPLOY_ENV_NAMES
    for entry in env:
        if "value" in entry:
            assert isinstance(entry["value"], str), f"{entry['name']}: env values must be strings"
    values = {e["name"]: e.get("value") for e in env}
    assert values["UID"].isdigit() and values["GID"].isdigit()


def password_mount(statefulset: dict[str, Any], container: dict[str, Any]) -> dict[str, Any]:
    """The Secret volume that holds the file PASSWORD_FILE names."""
    (entry,) = [e for e in container["env"] if e["name"] == "PASSWORD_FILE"]
    folder, _, key = entry["value"].rpartition("/")
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == folder]
    assert mount.get("readOnly") is True
    volumes = {v["name"]: v for v in statefulset["spec"]["template"]["spec"]["volumes"]}
    return {"key": key, **volumes[mount["name"]]["secret"]}


def test_password_comes_from_the_generated_secret_as_a_file(statefulset, container, kustomization):
    assert not [e for e in container["env"] if e["name"] == "PASSWORD"], (
        "PASSWORD must not be in the pod environment: mount the Secret and set PASSWORD_FILE"
    )
    secret = password_mount(statefulset, container)
    assert secret["defaultMode"] == 0o400, "only root (init-user) may read the password file"
    generated = generator(kustomization, "secretGenerator", secret["secretName"])
    keys: dict[str, str] = {}
    for name in generated["envs"]:
        keys.update(env_file(DEPLOY / name))
    assert keys.get(secret["key"]), "the Secret must define a non-empty PASSWORD"


def test_probes_use_health_on_port_3000(container):
    ports = {p.get("name"): p["containerPort"] for p in container["ports"]}
    assert 3000 in ports.values()
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        http = container[probe]["httpGet"]
        assert http["path"] == "/health", probe
        assert ports.get(http["port"], http["port"]) == 3000, probe


def test_home_is_a_volume_claim(statefulset, container):
    claims = {c["metadata"]["name"]: c for c in statefulset["spec"]["volumeClaimTemplates"]}
    (home,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/home"]
    assert home["name"] in claims
    assert claims[home["name"]]["spec"]["resources"]["requests"]["storage"]


def test_hooks_are_mounted_by_subpath_from_the_generated_configmap(
    statefulset, container, kustomization
):
    volumes = {v["name"]: v for v in statefulset["spec"]["template"]["spec"]["volumes"]}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    for path, key in HOOK_MOUNTS.items():
        assert mounts[path]["subPath"] == key
        config_map = volumes[mounts[path]["name"]]["configMap"]
        assert config_map["defaultMode"] == 0o755
        files = generator(kustomization, "configMapGenerator", config_map["name"])["files"]
        sources = dict(entry.split("=", 1) for entry in files)
        script = DEPLOY / sources[key]
        assert script.read_text().startswith("#!/usr/bin/env bash\n")
        assert os.access(script, os.X_OK), f"{script} must be executable"
        subprocess.run(["bash", "-n", str(script)], check=True)


def test_service_reaches_the_pods_on_3000(statefulset, container):
    service = load("service.yaml")
    pod_labels = statefulset["spec"]["template"]["metadata"]["labels"]
    assert statefulset["spec"]["serviceName"] == service["metadata"]["name"]
    assert statefulset["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert service["spec"]["selector"].items() <= pod_labels.items()
    ports = {p["port"]: p for p in service["spec"]["ports"]}
    assert sorted(ports) == [3000, 3001]
    named = {p.get("name"): p["containerPort"] for p in container["ports"]}
    for number in (3000, 3001):
        target = ports[number]["targetPort"]
        assert named.get(target, target) == number


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_kustomize_build_links_generated_names():
    out = subprocess.run(
        ["kubectl", "kustomize", str(DEPLOY.parent)], check=True, capture_output=True, text=True
    ).stdout
    docs = {d["kind"]: d for d in yaml.safe_load_all(out)}
    assert set(docs) == {"StatefulSet", "Service", "Secret", "ConfigMap"}
    spec = docs["StatefulSet"]["spec"]["template"]["spec"]
    secrets = [v["secret"]["secretName"] for v in spec["volumes"] if "secret" in v]
    assert secrets == [docs["Secret"]["metadata"]["name"]]
    assert spec["volumes"][0]["configMap"]["name"] == docs["ConfigMap"]["metadata"]["name"]
    assert set(docs["ConfigMap"]["data"]) == set(HOOK_MOUNTS.values())


def test_compose_uses_the_same_service_env_and_image_naming():
    compose_file = ROOT / "compose.yml"
    assert compose_file.is_file(), "compose.yml is missing"
    service = yaml.safe_load(compose_file.read_text())["services"]["helios"]
    names = [item.split("=", 1)[0] for item in service["environment"]]
    assert sorted(names) == sorted(ENV_NAMES)
    match = re.fullmatch(r"\$\{HELIOS_IMAGE:-(?P<image>[^}]+)\}", service["image"])
    assert match, "compose image must be ${HELIOS_IMAGE:-helios:v<version>-<distro>}"
    image = IMAGE_RE.match(match["image"])
    assert image and image["version"] == CURRENT and image["distro"] in NAMES


@pytest.mark.parametrize("name", ["README.md", "compose.yml", "deploy/base/statefulset.yaml"])
def test_image_tags_in_docs_follow_version_toml(name):
    path = ROOT / name
    assert path.is_file(), f"{name} is missing (invoke release retags it)"
    found = TAG_RE.findall(path.read_text())
    assert found, f"{name} shows no v<version>-<distro> image tag"
    stale = sorted({f"v{v}-{d}" for v, d in found if v != CURRENT})
    assert not stale, f"{name}: {stale} differ from version.toml {CURRENT} (invoke release)"
