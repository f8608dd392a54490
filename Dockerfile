# One image for every process of the platform; docker-compose.yml chooses the process with
# `command:` (python -m chs_enrollment api, python -m chs_notification relay, ...).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Pinned third-party dependencies first: this layer is rebuilt only when the lock changes.
COPY requirements.lock ./
RUN pip install -r requirements.lock

# The platform's own packages (each with its pyproject.toml), without re-resolving dependencies.
COPY libs/ libs/
COPY services/ services/
RUN set -eu; \
    packages=""; \
    for project in libs/*/pyproject.toml services/*/pyproject.toml; do \
        packages="$packages ./$(dirname "$project")"; \
    done; \
    pip install --no-deps $packages

RUN useradd --system --create-home --uid 10001 chs
USER chs

# In a container the HTTP APIs listen on every interface; the port comes from CHS_HTTP_PORT.
ENV CHS_HTTP_HOST=0.0.0.0
# One image for every process; docker-compose.yml (or a Helm chart) picks the process, one per
# Procfile line.
CMD ["python", "-c", "print('choose a process: python -m <package> <role>, as listed in the Procfile')"]
