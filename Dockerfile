# syntax=docker/dockerfile:1
#
# One image, two roles, chosen by the command (see docker-compose.yml and docs/deployment.md):
#   worker: dist/worker.js
#   API:    dist/api.js      (the default command; serves /api/v1 and the dashboard on $PORT)
#
# The runtime stage holds package.json, the production dependencies, the compiled processes with their
# migrations and prebuilt workflow bundle, and the built dashboard: no TypeScript sources, no dev dependencies.
# `npm run bench:image` assembles the same files outside Docker and times the two roles' start
# (docs/deployment.md, "The image"); test/deploy/image.test.ts checks this file.

# Node.js 26, the active LTS line since October 2026, on Debian 12. The full version pins the build (Docker Hub's
# library/node publishes this tag for amd64, arm64 and ppc64le).
ARG NODE_IMAGE=node:26.12.0-bookworm-slim

# ---- build: every dependency, the dashboard bundle (dashboard/dist), the compiled processes and the workflow
# bundle (dist/) ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
COPY . .
RUN npm run build:dashboard && npm run build

# ---- production dependencies: the lockfile's, without dev and optional packages. The optional ones are the
# platform binaries of embedded PostgreSQL (only `npm start` without DATABASE_URL runs it) and of swc (only a
# workflow bundle build uses it, and the image ships the bundle prebuilt). No install scripts: none of what is
# left needs one (swc's would fetch its WebAssembly build instead of the omitted binary). Then the Temporal core's
# native library for the other platforms goes ----
FROM ${NODE_IMAGE} AS production-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/prune-native-binaries.cjs ./scripts/
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund
RUN node scripts/prune-native-binaries.cjs

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    TEMPORAL_TASK_QUEUE=mailferry
WORKDIR /app
# Code and dependencies are owned by root and read-only for the service user; only .data (state the processes
# write, e.g. the API's first-start admin token file) belongs to it.
COPY package.json ./
COPY --from=production-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/api.js /app/dist/worker.js ./dist/
COPY --from=build /app/dist/migrations ./dist/migrations
COPY --from=build /app/dist/workflows ./dist/workflows
COPY --from=build /app/dashboard/dist ./dashboard/dist
RUN mkdir -p /app/.data && chown node:node /app/.data
# The official Node image ships an unprivileged "node" user (uid 1000).
USER node
EXPOSE 8080
CMD ["dist/api.js"]
