"""Harness for the runtime container tests (tests/container/test_runtime*.py).

The full Helios image cannot be built here, so the runtime's own scripts (common/root) run in a
small Debian image with the packages they call (Dockerfile.base) and a stand-in for s6-overlay's
with-contenv. Tests run the real s6-rc `up`/`run` files; the container environment is written to
/run/s6/container_environment the way s6-overlay does it. Containers have no network and are
named helios-test-rt-*; use Box as a context manager so they are always removed.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from python_on_whales import Container, DockerClient
from python_on_whales.exceptions import DockerException

from helios import ROOT

HERE = Path(__file__).resolve().parent
S6 = "/etc/s6-overlay/s6-rc.d"
# Test-only files holding plaintext (excluded from the "plaintext nowhere" scans).
SECRETS = "/helios-test-secrets"
ENV_DIR = "/run/s6/container_environment"
STAGE = "/helios-test-stage"

_images: dict[str, str] = {}


def build_image(docker: DockerClient, base: str) -> str:
    """The test image for `base` (debian:<suite>): packages layer + this checkout's common/root."""
    if base in _images:
        return _images[base]
    suite = base.partition(":")[2]
    # Tagged by the package list's content: checkouts with different lists never share it.
    packages = hashlib.sha256((HERE / "Dockerfile.base").read_bytes()).hexdigest()[:10]
    base_tag = f"helios-test-runtime-base:{suite}-{packages}"
    # apt needs the network while building; network=host also works without a docker0 bridge.
    docker.buildx.build(
        HERE,
        file=HERE / "Dockerfile.base",
        build_args={"BASE": base},
        tags=[base_tag],
        load=True,
        network="host",
        progress=False,
    )
    # One tag per checkout: worktrees testing different runtimes on one engine never share it.
    checkout = hashlib.sha256(str(ROOT).encode()).hexdigest()[:10]
    tag = f"helios-test-runtime:{suite}-{checkout}"
    docker.buildx.build(
        ROOT / "common" / "root",
        file=HERE / "Dockerfile",
        build_args={"BASE": base_tag},
        tags=[tag],
        load=True,
        progress=False,
    )
    _images[base] = tag
    return tag


@dataclass(frozen=True)
class Result:
    rc: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


class Box:
    """One throw-away container (no network) running `sleep infinity`."""

    def __init__(
        self,
        docker: DockerClient,
        image: str,
        volumes: list[tuple[str, str, str]] | None = None,
        *,
        read_only: bool = False,
        tmpfs: list[str] | None = None,
    ) -> None:
        self.docker = docker
        # Files reach the container through this bind mount (docker cp cannot write into tmpfs
        # mounts, which read-only containers use): content never on a command line.
        self._stage = Path(tempfile.mkdtemp(prefix="helios-test-stage-"))
        self._stage.chmod(0o755)
        self.container: Container = docker.run(
            image,
            ["sleep", "infinity"],
            detach=True,
            name=f"helios-test-rt-{uuid.uuid4().hex[:12]}",
            networks=["none"],
            volumes=[*(volumes or []), (str(self._stage), STAGE, "ro")],
            read_only=read_only,
            tmpfs=tmpfs or [],
        )

    def __enter__(self) -> Box:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.docker.container.remove(self.container, force=True, volumes=True)
        shutil.rmtree(self._stage, ignore_errors=True)

    def sh(self, script: str, *args: str, user: str | None = None) -> Result:
        """Run a bash script (positional args as $1...) and collect exit code, stdout, stderr."""
        out: list[bytes] = []
        err: list[bytes] = []
        rc = 0
        try:
            for source, chunk in self.docker.container.execute(
                self.container, ["bash", "-c", script, "bash", *args], stream=True, user=user
            ):
                (out if source == "stdout" else err).append(chunk)
        except DockerException as exc:
            rc = exc.return_code
        return Result(
            rc, b"".join(out).decode(errors="replace"), b"".join(err).decode(errors="replace")
        )

    def ok(self, script: str, *args: str, user: str | None = None) -> str:
        result = self.sh(script, *args, user=user)
        assert result.rc == 0, f"{script!r} failed ({result.rc}): {result.err}"
        return result.out

    def put(self, path: str, data: bytes | str, mode: str = "0644") -> None:
        """Write a file into the container through `docker cp` (content never on a command line)."""
        raw = data.encode() if isinstance(data, str) else data
        staged = self._stage / uuid.uuid4().hex
        staged.write_bytes(raw)
        self.ok(
            'mkdir -p "${1%/*}" && cp "$3" "$1" && chown root:root "$1" && chmod "$2" "$1"',
            path,
            mode,
            f"{STAGE}/{staged.name}",
        )
        staged.unlink()

    def set_env(self, **env: str | bytes) -> None:
        """Replace the s6 container environment (one file per variable, like s6-dumpenv)."""
        folder = self._stage / f"env-{uuid.uuid4().hex}"
        folder.mkdir()
        for name, value in env.items():
            (folder / name).write_bytes(value.encode() if isinstance(value, str) else value)
        self.ok(
            'rm -rf "$1" && mkdir -p "${1%/*}" && cp -r "$2" "$1"'
            ' && chown -R root:root "$1" && chmod 0755 "$1"',
            ENV_DIR,
            f"{STAGE}/{folder.name}",
        )
        shutil.rmtree(folder)

    def up(self, service: str, user: str | None = None) -> Result:
        """Run a oneshot's real `up` file (valid sh as well as execline)."""
        return self.sh(f"{S6}/{service}/up", user=user)

    def start(self, service: str, ready_file: str) -> None:
        """Start a longrun's real `run` file in the background, notification fd 3 -> ready_file."""
        self.background(f'exec {S6}/{service}/run 3>"$1" >/tmp/{service}.log 2>&1', ready_file)

    def background(self, script: str, *args: str) -> None:
        """Start a bash script detached (its output is not collected)."""
        self.docker.container.execute(
            self.container, ["bash", "-c", script, "bash", *args], detach=True
        )

    def wait_for(self, condition: str, seconds: int = 15) -> None:
        """Wait inside the container until the bash condition holds (bounded by `timeout`)."""
        loop = 'until eval "$1"; do sleep 0.1; done'
        result = self.sh(f"timeout {seconds} bash -c '{loop}' wait \"$1\"", condition)
        assert result.rc == 0, f"timed out after {seconds}s waiting for: {condition}"

    def accounts(self) -> str:
        """Snapshot of the account databases and /home, to prove that nothing changed."""
        return self.ok("cat /etc/passwd /etc/group /etc/shadow /etc/gshadow; find /home | sort")


VERIFY_SHADOW = r"""
import ctypes, sys
crypt = ctypes.CDLL("libcrypt.so.1").crypt
crypt.restype = ctypes.c_char_p
password = open("/helios-test-secrets/pw", "rb").read()
prefix = sys.argv[1].encode() + b":"
stored = [l.split(b":")[1] for l in open("/etc/shadow", "rb") if l.startswith(prefix)][0]
sys.exit(0 if crypt(password, stored) == stored else 1)
"""


def shadow_accepts(box: Box, user: str, password: str) -> bool:
    """libcrypt's crypt() (not openssl) checks the password against /etc/shadow."""
    box.put("/helios-test-secrets/verify.py", VERIFY_SHADOW)
    box.put("/helios-test-secrets/pw", password.encode())
    accepted = box.sh('python3 /helios-test-secrets/verify.py "$1"', user).rc == 0
    box.ok("rm -f /helios-test-secrets/pw")
    return accepted
