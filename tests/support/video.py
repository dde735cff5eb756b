"""Images for KasmVNC's video mode: the ffmpeg sonames an image's Xvnc was built against, and an
image built `FROM` it with the Debian packages that carry them (README.md, Video mode)."""

import re
import tempfile
from pathlib import Path

from python_on_whales import DockerClient

from helios import HeliosError

SONAMES = "/usr/local/share/kasmvnc/ffmpeg-sonames"
DEBIAN_SONAME = re.compile(r"^(lib[a-z]+)\.so\.([0-9]+)$")


def image_text(client: DockerClient, image: str, path: str) -> str:
    """The text of `path` in `image` (a throwaway container); empty when the file is missing."""
    out = client.run(
        image, ["sh", "-c", 'cat "$0" 2>/dev/null || true', path], entrypoint="", remove=True
    )
    return str(out)


def sonames(client: DockerClient, image: str) -> list[str]:
    """The sonames in the image's SONAMES file; empty when it has none (no video mode)."""
    return image_text(client, image, SONAMES).split()


def debian_packages(names: list[str]) -> list[str]:
    """Debian's package for each soname: libavcodec.so.59 -> libavcodec59 (Debian policy 8.1)."""
    packages = []
    for soname in names:
        match = DEBIAN_SONAME.match(soname)
        if match is None:
            raise HeliosError(f"{soname}: not a libNAME.so.N soname")
        packages.append(f"{match.group(1)}{match.group(2)}")
    return packages


def image_with_ffmpeg(client: DockerClient, image: str) -> str:
    """`image` plus the distro's ffmpeg libraries for its Xvnc (built once, tagged by image id)."""
    image_id = str(client.image.inspect(image).id).removeprefix("sha256:")[:12]
    tag = f"helios-video-test:{image_id}"
    if client.image.exists(tag):
        return tag
    packages = " ".join(debian_packages(sonames(client, image)))
    dockerfile = (
        f"FROM {image}\n"
        f"RUN apt-get update && apt-get install -y --no-install-recommends {packages} "
        "&& rm -rf /var/lib/apt/lists/*\n"
    )
    with tempfile.TemporaryDirectory() as context:
        (Path(context) / "Dockerfile").write_text(dockerfile)
        client.build(context, tags=[tag], load=True)
    return tag
