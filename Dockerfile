# The rollout worker and bot (one image, two commands). Node 24 LTS.
FROM node:24-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends openssh-client util-linux ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund || npm ci --no-audit --no-fund
COPY . .
USER node
ENTRYPOINT []
