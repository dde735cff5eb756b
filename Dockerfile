# Helios: one Dockerfile for every distro (BuildKit 0.8 compatible: no heredocs, no named
# contexts, no syntax line). Everything distro-specific lives in <distro>/build and <distro>/root;
# the only exception is the snakeoil stage (FROM ${SNAKEOIL_IMAGE}).
# Build args come from docker-bake.hcl (distros.toml + version.toml + sources.toml).
# One script per RUN so each step caches on its own (one fetch per source, too):
# hadolint global ignore=DL3059

ARG BASE_IMAGE
# SNAKEOIL_IMAGE: the image whose ssl-cert package makes the snakeoil pair (bake passes it).
ARG SNAKEOIL_IMAGE

# ---------------------------------------------------------------------------------------------
# distro: the base image of the target distro, used by the build stages and the final image.
FROM ${BASE_IMAGE} AS distro

# ---------------------------------------------------------------------------------------------
# build-deps: compilers and -dev packages for libjpeg-turbo, KasmVNC and Xorg.
FROM distro AS build-deps
ARG DISTRO
ARG TARGETARCH
COPY common/build/lib.sh common/build/apt.sh common/build/dnf.sh /helios/common/build/
COPY ${DISTRO}/build/kasm.sh /helios/distro/build/kasm.sh
RUN --mount=type=secret,id=helios-ca /helios/distro/build/kasm.sh

# ---------------------------------------------------------------------------------------------
# fetcher + src-*: every pinned upstream file, from .sources/ (bind-mounted), $SOURCES_MIRROR or
# upstream, sha256-verified by fetch.sh. Later stages COPY (or bind-mount) from the src-* stages,
# so a new file in .sources/ rebuilds nothing else, and each stage fetches only what it needs.
FROM build-deps AS fetcher
COPY common/build/fetch.sh /helios/common/build/fetch.sh

FROM fetcher AS src-kasmvnc
ARG TARGETARCH
ARG OFFLINE=false
ARG SOURCES_MIRROR=""
ARG KASMVNC_DIGEST
ARG KASMVNC_FILE
ARG KASMVNC_SHA256
ARG KASMVNC_URL
ARG KASMVNC_VERSION
RUN --mount=type=bind,source=.sources,target=/sources --mount=type=secret,id=helios-ca \
    /helios/common/build/fetch.sh kasmvnc

FROM fetcher AS src-kasmweb
ARG TARGETARCH
ARG OFFLINE=false
ARG SOURCES_MIRROR=""
ARG KASMWEB_DIGEST
ARG KASMWEB_FILE
ARG KASMWEB_SHA256
ARG KASMWEB_URL
ARG KASMWEB_VERSION
RUN --mount=type=bind,source=.sources,target=/sources --mount=type=secret,id=helios-ca \
    /helios/common/build/fetch.sh kasmweb

FROM fetcher AS src-kclient
ARG TARGETARCH
ARG OFFLINE=false
ARG SOURCES_MIRROR=""
ARG KCLIENT_DIGEST
ARG KCLIENT_FILE
ARG KCLIENT_SHA256
ARG KCLIENT_URL
ARG KCLIENT_VERSION
RUN --mount=type=bind,source=.sources,target=/sources --mount=type=secret,id=helios-ca \
    /helios/common/build/fetch.sh kclient

FROM fetcher AS src-turbo
ARG TARGETARCH
ARG OFFLINE=false
ARG SOURCES_MIRROR=""
ARG LIBJPEG_TURBO_DIGEST
ARG LIBJPEG_TURBO_FILE
ARG LIBJPEG_TURBO_SHA256
ARG LIBJPEG_TURBO_URL
ARG LIBJPEG_TURBO_VERSION
RUN --mount=type=bind,source=.sources,target=/sources --mount=type=secret,id=helios-ca \
    /helios/common/build/fetch.sh libjpeg-turbo

FROM fetcher AS src-xorg
ARG TARGETARCH
ARG OFFLINE=false
ARG SOURCES_MIRROR=""
ARG XORG_VERSION
ARG XORG_SERVER_21_1_4_DIGEST
ARG XORG_SERVER_21_1_4_FILE
ARG XORG_SERVER_21_1_4_SHA256
ARG XORG_SERVER_21_1_4_URL
ARG XORG_SERVER_21_1_4_VERSION
ARG XORG_SERVER_1_20_14_DIGEST
ARG XORG_SERVER_1_20_14_FILE
ARG XORG_SERVER_1_20_14_SHA256
ARG XORG_SERVER_1_20_14_URL
ARG XORG_SERVER_1_20_14_VERSION
RUN --mount=type=bind,source=.sources,target=/sources --mount=type=secret,id=helios-ca \
    /helios/common/build/fetch.sh "xorg-server-${XORG_VERSION}" /out/xorg-server

FROM fetcher AS src-s6
ARG TARGETARCH
ARG OFFLINE=false
ARG SOURCES_MIRROR=""
ARG S6_OVERLAY_NOARCH_DIGEST
ARG S6_OVERLAY_NOARCH_FILE
ARG S6_OVERLAY_NOARCH_SHA256
ARG S6_OVERLAY_NOARCH_URL
ARG S6_OVERLAY_NOARCH_VERSION
ARG S6_OVERLAY_ARCH_DIGEST
ARG S6_OVERLAY_ARCH_FILE_AMD64
ARG S6_OVERLAY_ARCH_FILE_ARM64
ARG S6_OVERLAY_ARCH_SHA256_AMD64
ARG S6_OVERLAY_ARCH_SHA256_ARM64
ARG S6_OVERLAY_ARCH_URL_AMD64
ARG S6_OVERLAY_ARCH_URL_ARM64
ARG S6_OVERLAY_ARCH_VERSION
ARG S6_OVERLAY_SYMLINKS_NOARCH_DIGEST
ARG S6_OVERLAY_SYMLINKS_NOARCH_FILE
ARG S6_OVERLAY_SYMLINKS_NOARCH_SHA256
ARG S6_OVERLAY_SYMLINKS_NOARCH_URL
ARG S6_OVERLAY_SYMLINKS_NOARCH_VERSION
ARG S6_OVERLAY_SYMLINKS_ARCH_DIGEST
ARG S6_OVERLAY_SYMLINKS_ARCH_FILE
ARG S6_OVERLAY_SYMLINKS_ARCH_SHA256
ARG S6_OVERLAY_SYMLINKS_ARCH_URL
ARG S6_OVERLAY_SYMLINKS_ARCH_VERSION
RUN --mount=type=bind,source=.sources,target=/sources --mount=type=secret,id=helios-ca \
    /helios/common/build/fetch.sh s6-overlay-noarch
RUN --mount=type=bind,source=.sources,target=/sources --mount=type=secret,id=helios-ca \
    /helios/common/build/fetch.sh s6-overlay-arch
RUN --mount=type=bind,source=.sources,target=/sources --mount=type=secret,id=helios-ca \
    /helios/common/build/fetch.sh s6-overlay-symlinks-noarch
RUN --mount=type=bind,source=.sources,target=/sources --mount=type=secret,id=helios-ca \
    /helios/common/build/fetch.sh s6-overlay-symlinks-arch

FROM fetcher AS src-kasmbins
ARG TARGETARCH
ARG OFFLINE=false
ARG SOURCES_MIRROR=""
ARG KASMBINS=false
ARG KASMBINS_DIGEST=""
ARG KASMBINS_FILE_AMD64=""
ARG KASMBINS_FILE_ARM64=""
ARG KASMBINS_SHA256_AMD64=""
ARG KASMBINS_SHA256_ARM64=""
ARG KASMBINS_URL_AMD64=""
ARG KASMBINS_URL_ARM64=""
ARG KASMBINS_VERSION=""
RUN --mount=type=bind,source=.sources,target=/sources --mount=type=secret,id=helios-ca \
    /helios/common/build/fetch.sh --when "${KASMBINS}" kasmbins

# Node binary + npm (used only by distros whose nodejs is too old), then the runtime packages.
FROM fetcher AS src-node
ARG TARGETARCH
ARG OFFLINE=false
ARG SOURCES_MIRROR=""
ARG NODE_DIGEST
ARG NODE_FILE_AMD64
ARG NODE_FILE_ARM64
ARG NODE_SHA256_AMD64
ARG NODE_SHA256_ARM64
ARG NODE_URL_AMD64
ARG NODE_URL_ARM64
ARG NODE_VERSION
ARG NPM_DIGEST
ARG NPM_FILE
ARG NPM_SHA256
ARG NPM_URL
ARG NPM_VERSION
ARG NODE_NEEDED=true
ARG NPM_NEEDED=true
RUN --mount=type=bind,source=.sources,target=/sources --mount=type=secret,id=helios-ca \
    /helios/common/build/fetch.sh --when-needed "${NODE_NEEDED}" node
RUN --mount=type=bind,source=.sources,target=/sources --mount=type=secret,id=helios-ca \
    /helios/common/build/fetch.sh --when-needed "${NPM_NEEDED}" npm

FROM src-node AS src-runtime
ARG TARGETARCH
ARG OFFLINE=false
ARG SOURCES_MIRROR=""
ARG VIRTUALGL_DEB_DIGEST
ARG VIRTUALGL_DEB_FILE_AMD64
ARG VIRTUALGL_DEB_FILE_ARM64=""
ARG VIRTUALGL_DEB_SHA256_AMD64
ARG VIRTUALGL_DEB_SHA256_ARM64=""
ARG VIRTUALGL_DEB_URL_AMD64
ARG VIRTUALGL_DEB_URL_ARM64=""
ARG VIRTUALGL_DEB_VERSION
ARG VIRTUALGL_RPM_DIGEST=""
ARG VIRTUALGL_RPM_FILE_AMD64=""
ARG VIRTUALGL_RPM_FILE_ARM64=""
ARG VIRTUALGL_RPM_SHA256_AMD64=""
ARG VIRTUALGL_RPM_SHA256_ARM64=""
ARG VIRTUALGL_RPM_URL_AMD64=""
ARG VIRTUALGL_RPM_URL_ARM64=""
ARG VIRTUALGL_RPM_VERSION=""
RUN --mount=type=bind,source=.sources,target=/sources --mount=type=secret,id=helios-ca \
    /helios/common/build/fetch.sh --when-command dpkg virtualgl-deb
RUN --mount=type=bind,source=.sources,target=/sources --mount=type=secret,id=helios-ca \
    /helios/common/build/fetch.sh --when-command dnf virtualgl-rpm

# ---------------------------------------------------------------------------------------------
# turbo: static PIC libjpeg-turbo in /usr/local.
FROM build-deps AS turbo
COPY common/build/turbo.sh /helios/common/build/turbo.sh
COPY --from=src-turbo /out/libjpeg-turbo/ /src/libjpeg-turbo/
RUN /helios/common/build/turbo.sh

# ---------------------------------------------------------------------------------------------
# kasmvnc: KasmVNC common libraries (set -e, unlike the original).
FROM turbo AS kasmvnc
COPY common/build/kasm.sh /helios/common/build/kasm.sh
COPY --from=src-kasmvnc /out/kasmvnc/ /src/kasmvnc/
RUN /helios/common/build/kasm.sh

# ---------------------------------------------------------------------------------------------
# xorg: xorg-server ${XORG_VERSION} with KasmVNC's Xvnc DDX.
FROM kasmvnc AS xorg
ARG DISTRO
ARG XORG_VERSION
COPY common/build/xorg-build.sh /helios/common/build/xorg-build.sh
COPY --from=src-xorg /out/xorg-server/ /src/xorg-server-${XORG_VERSION}/
COPY ${DISTRO}/build/xorg.sh /helios/distro/build/xorg.sh
RUN /helios/distro/build/xorg.sh

# ---------------------------------------------------------------------------------------------
# node: the distro's Node (or the pinned binary) plus the native-addon toolchain.
FROM build-deps AS node
ARG DISTRO
ARG TARGETARCH
COPY --from=src-node /out/node/ /src/node/
COPY --from=src-node /out/npm/ /src/npm/
COPY ${DISTRO}/build/kclient.sh /helios/distro/build/kclient.sh
RUN --mount=type=secret,id=helios-ca /helios/distro/build/kclient.sh

# ---------------------------------------------------------------------------------------------
# webclient: the Kasm web client; WebRTC is patched out only when WEBRTC=false.
FROM node AS webclient
ARG WEBRTC
ARG KASMWEB_NPM_BEFORE
COPY common/build/novnc.sh common/build/novnc-patch.js /helios/common/build/
COPY --from=src-kasmweb /out/kasmweb/ /src/kasmweb/
RUN --mount=type=secret,id=helios-ca /helios/common/build/novnc.sh

# ---------------------------------------------------------------------------------------------
# kclient: LinuxServer's kclient with the Helios edits and its native audio addon.
FROM node AS kclient
ARG KCLIENT_NPM_BEFORE
COPY common/build/kclient.sh common/build/kclient-patch.js /helios/common/build/
COPY --from=src-kclient /out/kclient/ /src/kclient/
RUN --mount=type=secret,id=helios-ca /helios/common/build/kclient.sh

# ---------------------------------------------------------------------------------------------
# package: Xvnc + web client + kclient (+ kasmbins) as a rootfs in /build-out.
FROM xorg AS package
ARG KASMBINS=false
ARG KASMBINS_VERSION=""
ARG KASMVNC_VERSION
ARG KASMWEB_VERSION
ARG KCLIENT_VERSION
COPY common/build/package.sh /helios/common/build/package.sh
COPY --from=webclient /build-out/www/ /build/www/
COPY --from=kclient /build-out/kclient/ /build/kclient/
COPY --from=src-kasmbins /out/kasmbins/ /src/kasmbins/
RUN /helios/common/build/package.sh

# ---------------------------------------------------------------------------------------------
# s6: s6-overlay extracted into /s6-root.
FROM build-deps AS s6
COPY common/build/s6.sh /helios/common/build/s6.sh
COPY --from=src-s6 /out/s6-overlay-noarch/ /src/s6-overlay-noarch/
COPY --from=src-s6 /out/s6-overlay-arch/ /src/s6-overlay-arch/
COPY --from=src-s6 /out/s6-overlay-symlinks-noarch/ /src/s6-overlay-symlinks-noarch/
COPY --from=src-s6 /out/s6-overlay-symlinks-arch/ /src/s6-overlay-symlinks-arch/
RUN /helios/common/build/s6.sh

# ---------------------------------------------------------------------------------------------
# snakeoil: the one distro-specific stage (its ssl-cert package makes the pair KasmVNC expects).
FROM ${SNAKEOIL_IMAGE} AS snakeoil
COPY common/build/lib.sh common/build/snakeoil.sh /helios/common/build/
RUN --mount=type=secret,id=helios-ca /helios/common/build/snakeoil.sh

# ---------------------------------------------------------------------------------------------
# system-scripts: what the final stage runs, bind-mounted so no script lands in a layer.
FROM scratch AS system-scripts
ARG DISTRO
COPY common/build/lib.sh common/build/apt.sh common/build/dnf.sh common/build/runtime.sh \
     common/build/apt-runtime.sh common/build/dnf-runtime.sh /common/build/
COPY ${DISTRO}/build/system.sh /distro/build/system.sh

# ---------------------------------------------------------------------------------------------
# final image
FROM distro AS final
ARG DISTRO
ARG FAMILY
ARG TARGETARCH
ARG HELIOS_VERSION
LABEL org.opencontainers.image.title="Helios ${DISTRO}" \
      org.opencontainers.image.version="${HELIOS_VERSION}" \
      io.helios.distro="${DISTRO}" \
      io.helios.family="${FAMILY}"
COPY ${DISTRO}/root/ /
COPY --from=package /build-out/ /
RUN --mount=type=bind,from=system-scripts,source=/,target=/helios \
    --mount=type=bind,from=src-runtime,source=/out,target=/tmp/helios-src \
    --mount=type=secret,id=helios-ca \
    HELIOS_SRC=/tmp/helios-src /helios/distro/build/system.sh
COPY --from=s6 /s6-root/ /
COPY common/root/ /
COPY --from=snakeoil /snakeoil/ssl-cert-snakeoil.pem /etc/ssl/certs/ssl-cert-snakeoil.pem
COPY --from=snakeoil /snakeoil/ssl-cert-snakeoil.key /etc/ssl/private/ssl-cert-snakeoil.key
ENV DISPLAY=:1 \
    HELIOS_VERSION=${HELIOS_VERSION} \
    LANG=C.UTF-8 \
    S6_BEHAVIOUR_IF_STAGE2_FAILS=2 \
    S6_CMD_WAIT_FOR_SERVICES_MAXTIME=0 \
    S6_VERBOSITY=1 \
    OMP_WAIT_POLICY=PASSIVE \
    GOMP_SPINCOUNT=0
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["sh", "-c", "curl -fsS http://127.0.0.1:${HTTP_PORT:-3000}/health || exit 1"]
ENTRYPOINT ["/init"]
