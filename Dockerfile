FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run prepare --if-present
# The app stays root-owned and read-only to the engine; PGlite (used when DATABASE_URL is unset) writes only
# to its data folder, which the node user owns. A volume keeps it across containers.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]
# Inside a container the gateway must listen beyond loopback to be reachable through a published port.
ENV HOST=0.0.0.0 BOTRELIC_DATA_DIR=/app/data
EXPOSE 3000
USER node
# Exec form: node is PID 1 and receives SIGTERM itself, so `docker stop` drains the mailboxes before exit.
CMD ["node", "bin/botrelic.js", "serve"]
