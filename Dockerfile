# The rollout worker and bot: one image, two commands (see docker-compose.yml). Node 24 LTS, pinned.
FROM node:24.21.0-bookworm-slim AS base
WORKDIR /app

# Build stage: every dependency, to bundle the workflow code once at image build time (a worker that bundles at
# start-up spends seconds and memory on webpack, and could bundle something other than what was tested).
FROM base AS build
COPY package.json package-lock.json ./
# (npm ci runs the `prepare` script, scripts/build-cli.mjs: with no sources here yet it builds nothing)
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY bin ./bin
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY src ./src
# The CLI compiled to JavaScript (dist/cli/, esbuild): the commands start without compiling TypeScript.
RUN node scripts/build-cli.mjs
RUN node bin/rollout.mjs bundle /app/dist/workflows.js

FROM base AS runtime
# ssh for the SSH transport's known_hosts tooling, flock/setsid (util-linux) for the local transport.
RUN apt-get update \
    && apt-get install -y --no-install-recommends openssh-client util-linux ca-certificates \
    && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    ROLLOUT_WORKFLOW_BUNDLE=/app/dist/workflows.js
COPY package.json package-lock.json ./
COPY scripts ./scripts
# Deterministic: exactly the lock file's production dependencies, no dev tools in the image.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY bin ./bin
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY src ./src
COPY --from=build /app/dist/workflows.js ./dist/workflows.js
# After the sources (bin/rollout.mjs runs the bundle only when no source is newer than it).
COPY --from=build /app/dist/cli ./dist/cli
USER node
ENTRYPOINT []
# The worker's Node flags and environment: WORKER_NODE_FLAGS and WORKER_ENV in src/temporal/worker.ts (why;
# test/compose.test.ts keeps them equal).
ENV MALLOC_ARENA_MAX=2
CMD ["node", "--max-semi-space-size=8", "bin/rollout.mjs", "worker"]
