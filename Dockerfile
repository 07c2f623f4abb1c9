# syntax=docker/dockerfile:1
#
# One image, two roles, chosen by the command (see docker-compose.yml and docs/deployment.md):
#   worker: dist/worker.js
#   API:    dist/api.js      (the default command; serves /api/v1 and the dashboard on $PORT)
#
# The processes run compiled (scripts/build.sh: no tsx loader in them), with the dashboard and the workflow
# bundle built ahead of time.

ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# ---- dependencies: exactly the lockfile ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund

# ---- build: the dashboard bundle (dashboard/dist), the compiled processes and the workflow bundle (dist/) ----
FROM deps AS build
COPY . .
RUN npm run build:dashboard --if-present && npm run build

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false \
    PORT=8080 \
    TEMPORAL_TASK_QUEUE=mailferry
WORKDIR /app
# Code and dependencies are owned by root and read-only for the service user; only .data (state the processes
# write, e.g. the API's first-start admin token file) belongs to it.
COPY --from=build /app /app
RUN mkdir -p /app/.data && chown node:node /app/.data
# The official Node image ships an unprivileged "node" user (uid 1000).
USER node
EXPOSE 8080
CMD ["dist/api.js"]
