# syntax=docker/dockerfile:1
# driftloop's operator tools: the `driftloop` command (driftloop-cli) without the embedded
# broker and store. Used by the `topics` job in docker-compose.yml and infra/k8s/topics-job.yaml.
# Build from the repository root:
#   docker build -f infra/docker/tools.Dockerfile -t driftloop/tools:dev .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_PROJECT_ENVIRONMENT=/opt/venv

RUN pip install --no-cache-dir "uv>=0.9,<0.14"

WORKDIR /src
# Only what the CLI's dependency tree needs; the lock pins every version.
COPY pyproject.toml uv.lock ./
COPY contracts/ contracts/
COPY libs/ libs/
RUN uv sync --frozen --no-dev --no-editable --package driftloop-cli \
    && rm -rf /root/.cache

ENV PATH=/opt/venv/bin:$PATH

# A numeric user, so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 driftloop \
    && useradd --system --uid 10001 --gid 10001 --no-create-home driftloop
USER 10001:10001

ENTRYPOINT ["driftloop"]
CMD ["--help"]
