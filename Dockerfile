FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run prepare --if-present
EXPOSE 3000
USER node
CMD ["node", "bin/botrelic.js", "serve"]
