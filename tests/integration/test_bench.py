"""The streaming benchmark (`nox -s bench`, `invoke bench <distro>`; marked `bench`, so the
integration session leaves it out).

Per distro image: a fresh container, the web client in headless Chromium at 1280x800 on the
HTTPS port (WebCodecs needs a secure context), a terminal scrolling without end, and for SECONDS
what the client receives (KiB/s and websocket messages/s on the VNC socket), the video frames the
browser decoded, and Xvnc's CPU share. Variants: `default` (the image as shipped) and, where its
Xvnc has video mode, `h264` (the image plus its ffmpeg libraries, VIDEO_CODEC=h264, and the web
client's stream mode set to H.264 as a user would pick it in its settings). The median of RUNS
runs of each is stored in reports/measurements.toml as
[bench.<distro>."<kasmvnc commit[:8]>-<variant>"], so two KasmVNC versions can be compared.
"""

import statistics
import time
from typing import Any

import pytest
from itsetup import CREDS, TIMEOUT, USER, suite_container
from python_on_whales import DockerClient
from support import integration, stream, video

from helios import measure
from helios.matrix import Distro

pytestmark = pytest.mark.bench
RUNS = 2
SECONDS = 20.0
MEDIAN_KEYS = ("client_kib_per_s", "ws_messages_per_s", "decoded_video_frames", "xvnc_cpu_percent")


def one_run(distro: Distro, image: str, env: dict[str, str], mode: int) -> dict[str, Any]:
    container = suite_container(image, f"bench-{distro.name}", 3000, 3001, **env)
    started = time.monotonic()
    with container:
        integration.ready_desktop(container, distro, image, started, TIMEOUT)
        sample = stream.sample(
            stream.https_url(container), CREDS.pair(), container, USER, SECONDS, stream_mode=mode
        )
    return sample.as_report()


def kasmvnc_commit(client: DockerClient, image: str) -> str:
    commit = video.image_text(client, image, "/opt/helios/kasmvnc.version").strip()
    assert commit, f"{image} has no /opt/helios/kasmvnc.version"
    return commit[:8]


def test_streaming_benchmark(docker_client: DockerClient, helios_image: tuple[Distro, str]) -> None:
    distro, image = helios_image
    variants = {"default": (image, {}, stream.STREAM_MODE_JPEG_WEBP)}
    if video.sonames(docker_client, image):
        with_ffmpeg = video.image_with_ffmpeg(docker_client, image)
        variants["h264"] = (with_ffmpeg, {"VIDEO_CODEC": "h264"}, stream.STREAM_MODE_H264)
    commit = kasmvnc_commit(docker_client, image)
    for variant, (tag, env, mode) in variants.items():
        runs = [one_run(distro, tag, env, mode) for _ in range(RUNS)]
        result: dict[str, Any] = {"image": tag, "runs": RUNS}
        for key in MEDIAN_KEYS:
            result[key] = statistics.median(run[key] for run in runs)
            result[f"{key}_runs"] = [run[key] for run in runs]
        result["video_codecs"] = sorted({c for run in runs for c in run["video_codecs"]})
        measure.record_bench(distro.name, f"{commit}-{variant}", result)
        print(f"{distro.name} {commit}-{variant}: {result}")
        assert all(run["client_kib_per_s"] > 0 for run in runs), runs
        if variant == "h264":
            assert all(run["decoded_video_frames"] > 0 for run in runs), runs
