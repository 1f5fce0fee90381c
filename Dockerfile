# syntax=docker/dockerfile:1
# fedlearn images: one build, three runtime targets.
#   docker build --target coordinator -t fedlearn/coordinator .
#   docker build --target client      -t fedlearn/client .
#   docker build --target serving     -t fedlearn/serving .
# Every target runs the same `fedlearn` CLI as a non-root user; configuration comes from env and
# flags at run time (see docker-compose.yml and docs/deployment.md), never from the image.

ARG NODE_IMAGE=node:20.19-bookworm-slim
ARG TFJS_NODE_VERSION=4.22.0

# ---- build: full install from the lockfile, compile every package -------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV CI=true TURBO_TELEMETRY_DISABLED=1
COPY package.json package-lock.json ./
COPY packages/core/package.json packages/core/
COPY packages/server/package.json packages/server/
COPY packages/client-node/package.json packages/client-node/
COPY packages/client-browser/package.json packages/client-browser/
COPY packages/registry/package.json packages/registry/
COPY packages/serving/package.json packages/serving/
COPY packages/cli/package.json packages/cli/
COPY packages/cli/bin packages/cli/bin
# --ignore-scripts: the root `prepare` would build before the sources are copied in.
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild esbuild protobufjs
COPY tsconfig.base.json tsup.base.ts turbo.json ./
COPY packages packages
RUN npx turbo run build --output-logs=errors-only \
 && rm -rf packages/*/src packages/*/test packages/*/node_modules \
    packages/*/tsconfig.json packages/*/tsup.config.ts packages/*/vitest.config.ts

# ---- deps: production dependencies only, plus the native TensorFlow backend ---------------------
# tfjs-node is an optional peer the lockfile does not pin; its install script downloads
# libtensorflow, which is why it is added here (a user's build has internet) and not in CI.
FROM ${NODE_IMAGE} AS deps
ARG TFJS_NODE_VERSION
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=build /app/packages packages
RUN npm ci --no-audit --no-fund --omit=dev --ignore-scripts \
 && npm install --no-audit --no-fund --no-save --omit=dev "@tensorflow/tfjs-node@${TFJS_NODE_VERSION}" \
 && npm cache clean --force

# ---- runtime: what the three targets share -------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production FEDLEARN_HOME=/var/lib/fedlearn
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules node_modules
COPY --from=deps --chown=root:root /app/packages packages
COPY --from=deps --chown=root:root /app/package.json package.json
RUN ln -s /app/packages/cli/bin/fedlearn.js /usr/local/bin/fedlearn \
 && mkdir -p /var/lib/fedlearn \
 && chown node:node /var/lib/fedlearn
# The `node` user (uid 1000) ships with the official image; the code stays root-owned and read-only to it.
USER node
VOLUME ["/var/lib/fedlearn"]
ENTRYPOINT ["fedlearn"]

# ---- coordinator: socket.io + control API on 8700 -----------------------------------------------
FROM runtime AS coordinator
EXPOSE 8700
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8700/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["server", "--host", "0.0.0.0", "--port", "8700", "--keep-running"]

# ---- client: a simulated Node client on one MNIST partition -------------------------------------
# Healthy while it can reach its coordinator (FEDLEARN_SERVER); it listens on no port itself.
FROM runtime AS client
ENV FEDLEARN_SERVER=http://coordinator:8700
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.FEDLEARN_SERVER + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# `--index auto`: each compose replica takes its partition from its container name.
CMD ["client", "--index", "auto"]

# ---- serving: REST/GraphQL on 8800, gRPC on 50051 -----------------------------------------------
FROM runtime AS serving
EXPOSE 8800 50051
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8800/v2/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8800", "--grpc-port", "50051", "--wait-for-model"]
