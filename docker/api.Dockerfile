# syntax=docker/dockerfile:1
# The synthline REST API: `synthline serve`, configured by the environment (apps/api/src/env.ts).
# Build from the repository root:
#   docker build -f docker/api.Dockerfile -t synthline-api .
# The API listens on 0.0.0.0:8080 here, and it refuses to listen beyond loopback without API keys:
# give it SYNTHLINE_API_KEYS (name:sha256-of-token entries, from `synthline api-key <name>`) or
# SYNTHLINE_API_KEYS_FILE (docker-compose.yml does).

ARG NODE_IMAGE=node:20-bookworm-slim

# Only the package manifests, so that the `npm ci` layer below stays cached until one changes.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && find . -name node_modules -prune -o \( -name package.json -o -name package-lock.json \) -print \
    | xargs -I{} cp --parents {} /manifests/

# Production dependencies of every workspace. tsx is one of them: there is no build step, the
# TypeScript sources run through tsx's loader (apps/cli/bin/synthline.js).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error \
 && node -e "import('tsx/esm/api').catch(() => { console.error('tsx is missing from the production dependencies'); process.exit(1); })" \
 && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    SYNTHLINE_OUTPUT=/data/jobs \
    SYNTHLINE_LIBRARY=/data/library \
    SYNTHLINE_REAL=/data/real
WORKDIR /app
COPY --from=deps /app/ ./
COPY . .
# The web console served at / (apps/console/dist): bundled here, where its sources are (the
# npm ci stage above sees only the manifests).
RUN node apps/console/build.mjs
# `synthline` on PATH, for `docker exec ... synthline workers` and the like.
RUN printf '#!/bin/sh\nexec node /app/apps/cli/bin/synthline.js "$@"\n' > /usr/local/bin/synthline \
 && chmod 0755 /usr/local/bin/synthline \
 && mkdir -p /data/jobs /data/library /data/real \
 && chown -R node:node /data
# The image's unprivileged user (uid 1000); the code stays owned by root, read-only to it.
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/apps/cli/bin/synthline.js"]
CMD ["serve"]
