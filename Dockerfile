# syntax=docker/dockerfile:1
# nasha-bot's container image: `docker build -t nasha-bot .` (README, "Container image"). CI does not build
# it (no Docker daemon there); test/deploy/dockerfile.test.ts parses this file and checks it against what the
# tests run: the entry point, the user, the port, the volume and the health check.
ARG NODE_IMAGE=node:20-bookworm-slim

# 0. The native toolchain: better-sqlite3 compiles its module when no prebuilt binary can be downloaded.
FROM ${NODE_IMAGE} AS toolchain
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*

# 1. Compile: every dependency (tsc is a dev dependency), exactly as locked, then src/ → dist/.
FROM toolchain AS build
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# 2. Run-time dependencies only, from the same lock file (no tsc, tsx, vitest…).
FROM toolchain AS deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# 3. The image: Node, the production node_modules and the compiled output; no sources, no compiler.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
  NASHA_DATA_DIR=/data \
  NASHA_CONFIG=/etc/nasha/nasha.yml \
  HOST=0.0.0.0 \
  PORT=3000 \
  HEALTH_PORT=3001
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The embedded database lives on a volume owned by the unprivileged user (uid 1000, `node` in the image).
RUN mkdir -p /data /etc/nasha && chown node:node /data
VOLUME ["/data"]
USER node
# HTTP mode: Slack's requests and /healthz, /readyz, /metrics on PORT. Socket Mode: only the probes, on HEALTH_PORT.
EXPOSE 3000 3001
# Liveness: GET /healthz on whichever of PORT / HEALTH_PORT the mode serves it (dist/ops/healthcheck.js).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["node", "dist/ops/healthcheck.js"]
# Exec form, no shell and no npm in between: node is PID 1 and receives SIGTERM itself. It installs handlers
# for SIGTERM and SIGINT (graceful drain, see README "Operations") and starts no child processes, so it has
# no zombies to reap; `docker run --init` adds tini for those who want it anyway.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/main.js"]
