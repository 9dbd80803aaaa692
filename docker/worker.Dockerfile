# syntax=docker/dockerfile:1
# A synthline render worker: `synthline worker`, with the official Blender LTS build on an NVIDIA
# CUDA base. Build from the repository root:
#   docker build -f docker/worker.Dockerfile -t synthline-worker .
# Run on a GPU host (NVIDIA driver and NVIDIA Container Toolkit installed):
#   docker run --init --gpus all -e REDIS_URL=... -e SYNTHLINE_OUTPUT=s3://... synthline-worker
# The same image renders on the CPU with WORKER_DEVICE=cpu and no GPU.

ARG CUDA_IMAGE=nvidia/cuda:12.4.1-runtime-ubuntu22.04
ARG NODE_IMAGE=node:20-bookworm-slim

# Only the package manifests, so that the `npm ci` layer below stays cached until one changes.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && find . -name node_modules -prune -o \( -name package.json -o -name package-lock.json \) -print \
    | xargs -I{} cp --parents {} /manifests/

# Production dependencies of every workspace (tsx included: the sources run through its loader).
# Built on Debian; the native parts (sharp's libvips, msgpackr) are glibc builds that run on the
# Ubuntu base below, as does the official Node binary copied from this image.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error \
 && node -e "import('tsx/esm/api').catch(() => { console.error('tsx is missing from the production dependencies'); process.exit(1); })" \
 && npm cache clean --force

# The official Blender build, pinned by version and sha256. To move to another 4.2 LTS release,
# take its line from https://download.blender.org/release/Blender4.2/blender-<version>.sha256 and
# pass both: --build-arg BLENDER_VERSION=4.2.x --build-arg BLENDER_SHA256=<hex>.
FROM ${CUDA_IMAGE} AS blender
ARG BLENDER_VERSION=4.2.15
ARG BLENDER_SHA256=b9dcc1d06861529779e7faf8d82c9dd3563443dfb1eb14212424c8c40b77074e
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates curl xz-utils \
 && rm -rf /var/lib/apt/lists/*
RUN set -eu; \
    series="${BLENDER_VERSION%.*}"; \
    tarball="blender-${BLENDER_VERSION}-linux-x64.tar.xz"; \
    curl -fsSL --retry 3 -o "/tmp/${tarball}" "https://download.blender.org/release/Blender${series}/${tarball}"; \
    echo "${BLENDER_SHA256}  /tmp/${tarball}" | sha256sum -c -; \
    mkdir -p /opt/blender; \
    tar -xJf "/tmp/${tarball}" -C /opt/blender --strip-components=1; \
    rm "/tmp/${tarball}"

FROM ${CUDA_IMAGE}
ARG BLENDER_VERSION=4.2.15
# X and GL client libraries the official Blender binary links even in background mode; nothing
# draws. Its Python (with numpy) is bundled, so no python3 packages are needed.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libstdc++6 libgomp1 \
      libx11-6 libxext6 libxi6 libxxf86vm1 libxfixes3 libxrender1 libxkbcommon0 libsm6 libice6 \
      libgl1 libegl1 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=blender /opt/blender /opt/blender
COPY --from=deps /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
COPY --from=deps /app/ ./
COPY . .
RUN printf '#!/bin/sh\nexec node /app/apps/cli/bin/synthline.js "$@"\n' > /usr/local/bin/synthline \
 && chmod 0755 /usr/local/bin/synthline \
 && node --version \
 && /opt/blender/blender --factory-startup -noaudio --background --version | head -n 1 | grep -F "Blender ${BLENDER_VERSION}" \
 && useradd --uid 1000 --create-home --shell /usr/sbin/nologin synthline \
 && mkdir -p /data/jobs /data/library \
 && chown -R synthline:synthline /data
# BLENDER is what packages/blender/src/find-blender.ts reads. compute,utility: CUDA and
# nvidia-smi; graphics: the driver's OptiX libraries (libnvoptix), which the NVIDIA Container
# Toolkit injects only with this capability, so WORKER_DEVICE=optix needs it.
ENV NODE_ENV=production \
    BLENDER=/opt/blender/blender \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics \
    WORKER_DEVICE=auto \
    WORKER_SLOTS=auto \
    WORKER_HTTP_HOST=0.0.0.0 \
    WORKER_HTTP_PORT=9464 \
    SYNTHLINE_OUTPUT=/data/jobs \
    SYNTHLINE_LIBRARY=/data/library
USER synthline
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.WORKER_HTTP_PORT || 9464) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/apps/cli/bin/synthline.js"]
# `synthline doctor` first (Blender, GPUs, Redis, storage, one frame per device): a machine that
# cannot serve exits 1 naming each problem, before it takes a batch.
CMD ["worker", "--doctor"]
