# syntax=docker/dockerfile:1
# NeonHub: one image for the web server, the workers and the one-off commands
# (deploy/entrypoint.sh: web | worker | migrate | manage ... | health). See docs/DEPLOY.md.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: the dependencies in a virtualenv, pinned by requirements.lock ----------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /build
# Only the dependency list first, so this layer is rebuilt when the dependencies change, not the
# code. The project's own package is installed for its dependencies and removed again: the code
# runs from /app, where templates/ and static/ sit beside it.
COPY pyproject.toml requirements.lock ./
RUN pip install --constraint requirements.lock . \
    && pip uninstall --yes neonhub

# --- runtime: the virtualenv, the code and the collected static files; no compilers, no pip cache
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    NEONHUB_VAR_DIR=/app/var \
    NEONHUB_STATIC_ROOT=/app/staticfiles \
    PORT=8000
RUN groupadd --system --gid 10001 neonhub \
    && useradd --system --uid 10001 --gid neonhub --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin neonhub
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY . .
# Static files are collected now, into the image (whitenoise serves them). Throwaway secrets for
# this one command only, so that no secrets file is generated into the image.
RUN NEONHUB_SECRET_KEY=build-only-not-a-secret \
    NEONHUB_ENCRYPTION_KEYS=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    python manage.py collectstatic --noinput -v0 \
    && rm -rf /app/var \
    && mkdir -p /app/var \
    && chown neonhub:neonhub /app/var

# SQLite, uploads and media (with PostgreSQL only uploads and media): keep it on a volume.
VOLUME ["/app/var"]
USER neonhub:neonhub
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/app/deploy/entrypoint.sh", "health"]
ENTRYPOINT ["/app/deploy/entrypoint.sh"]
CMD ["web"]
