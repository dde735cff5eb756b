"""KasmVNC video mode (VIDEO_CODEC): refused in one line where the image has no ffmpeg, and H.264
frames decoded by the browser's WebCodecs in an image that adds the ffmpeg libraries
(support.video builds it `FROM` the image under test, the way README.md's Video mode says)."""

import time

import pytest
from itsetup import CREDS, TIMEOUT, USER, suite_container
from python_on_whales import DockerClient
from support import integration, stream, video

from helios.matrix import Distro


def test_video_mode_without_ffmpeg_stops_with_one_line(
    docker_client: DockerClient, helios_image: tuple[Distro, str]
) -> None:
    _distro, image = helios_image
    sonames = video.sonames(docker_client, image)
    if not sonames:
        pytest.skip(f"{image}: Xvnc has no video mode (KasmVNC before 1.5)")
    container = suite_container(image, "video-off", 3000, VIDEO_CODEC="h264")
    with container:
        name = str(container.get_wrapped_container().id)
        assert integration.wait_exited(docker_client, name, TIMEOUT) != 0
        logs = docker_client.container.logs(name)
    lines = [line for line in logs.splitlines() if "VIDEO_CODEC" in line]
    assert lines == [
        f"[helios] VIDEO_CODEC=h264 needs {' '.join(sonames)}, not in this image: install "
        "the distro's packages for them in a FROM helios image (README.md, Video mode)"
    ]
    # Validation comes first: no account was made.
    assert "created user" not in logs


def test_h264_video_mode_reaches_the_browser_decoder(
    docker_client: DockerClient, helios_image: tuple[Distro, str]
) -> None:
    distro, image = helios_image
    if not video.sonames(docker_client, image):
        pytest.skip(f"{image}: Xvnc has no video mode (KasmVNC before 1.5)")
    with_ffmpeg = video.image_with_ffmpeg(docker_client, image)
    container = suite_container(with_ffmpeg, f"video-{distro.name}", 3000, 3001, VIDEO_CODEC="h264")
    started = time.monotonic()
    with container:
        integration.ready_desktop(container, distro, with_ffmpeg, started, TIMEOUT)
        assert "-videoCodec=h264" in container.exec(["pgrep", "-a", "-x", "Xvnc"]).output.decode()
        sample = stream.sample(
            stream.https_url(container),
            CREDS.pair(),
            container,
            USER,
            seconds=10,
            stream_mode=stream.STREAM_MODE_H264,
        )
    print(f"{distro.name} h264: {sample.as_report()}")
    # The web client configured a WebCodecs H.264 decoder and it put out frames.
    assert any(codec.startswith("avc1") for codec in sample.codecs), sample
    assert sample.decoded_frames > 0, sample
    assert sample.ws_bytes > 0
