# syntax=docker/dockerfile:1
# Aviary flag server. Build: docker build -t aviary-server .   Run: see docker-compose.yml and docs/deploy.md.
# The runtime stage is exercised without Docker by apps/server/test/deploy-start.spec.ts, which
# repeats its COPY and RUN steps in a temporary folder: keep the two in step.

ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# ---- build: every dependency, then compile @aviary/core, @aviary/guard and @aviary/server, and build the dashboard ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NX_DAEMON=false NX_NO_CLOUD=true CI=true
COPY package.json package-lock.json ./
COPY packages/core/package.json packages/core/
COPY packages/guard/package.json packages/guard/
COPY apps/server/package.json apps/server/
COPY apps/dashboard/package.json apps/dashboard/
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json ./
COPY packages/core/ packages/core/
COPY packages/guard/ packages/guard/
COPY migrations/ migrations/
COPY apps/server/ apps/server/
COPY apps/dashboard/ apps/dashboard/
# The same compilation as `nx run @aviary/server:build` (tsc --build, core and guard first by reference),
# then the dashboard's static files as `nx run @aviary/dashboard:build` makes them (its API types are
# checked against the server just built).
RUN npx tsc -b apps/server/tsconfig.lib.json \
 && npm run build -w @aviary/dashboard

# ---- runtime: production dependencies only, non-root ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=4000 \
    AVIARY_DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/core/package.json packages/core/
COPY packages/guard/package.json packages/guard/
COPY apps/server/package.json apps/server/
# Installs the server's dependencies and links the @aviary/core and @aviary/guard workspaces (their dist comes below).
RUN npm ci --omit=dev --workspace @aviary/server --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && mkdir -p /data && chown node:node /data
COPY --from=build /app/packages/core/dist packages/core/dist
COPY --from=build /app/packages/guard/dist packages/guard/dist
COPY --from=build /app/apps/server/dist apps/server/dist
# The server serves these at / (apps/server/src/dashboard/dashboard-static.ts).
COPY --from=build /app/apps/dashboard/dist apps/dashboard/dist
USER node
EXPOSE 4000
# Only the embedded database (no DATABASE_URL) writes here.
VOLUME ["/data"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM drains: readiness off, streams closed, in-flight requests finished, exit 0 (AVIARY_SHUTDOWN_TIMEOUT_MS).
STOPSIGNAL SIGTERM
CMD ["node", "apps/server/dist/apps/server/src/main.js"]
