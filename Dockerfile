# syntax=docker/dockerfile:1
# Build stage: resolve and install into a virtual environment.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
# The dependencies first, from pyproject.toml alone, so a change to the code reuses
# this layer. Every one installs from a wheel: no compiler in either stage. The NLP
# needs no model package and downloads nothing (a pipeline built on spaCy's blank
# English: nlp/pipeline.py).
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && /opt/venv/bin/pip install -r requirements.txt
COPY README.md alembic.ini ./
COPY app ./app
COPY connectors ./connectors
COPY nlp ./nlp
COPY migrations ./migrations
# The project itself; then pip leaves the venv (the base image keeps its own).
RUN /opt/venv/bin/pip install --no-deps . \
    && /opt/venv/bin/python -m pip uninstall --yes pip

# Runtime stage: just the venv, as an unprivileged user.
FROM python:3.11-slim
# Production by default: PostgreSQL (DATABASE_URL), your sources (LP_SOURCES_FILE),
# LP_PSEUDONYM_KEY, and at least one API key are required; the service says which
# is missing and refuses to start without it.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    LP_ENVIRONMENT=production \
    LP_HOST=0.0.0.0 \
    LP_PORT=8000
# /data: an optional mount point for file sources' exports (the service writes nothing
# there, so no VOLUME: it would leave an anonymous volume behind every container).
RUN useradd --create-home --uid 10001 listening && mkdir /data && chown 10001 /data
COPY --from=build /opt/venv /opt/venv
COPY deploy/healthcheck.py /opt/listening-path/healthcheck.py
# Numeric, so a platform can tell it is not root without reading /etc/passwd.
USER 10001
WORKDIR /home/listening
EXPOSE 8000
# `serve` answers /health on LP_PORT; the scheduler and workers (no HTTP) override it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/opt/listening-path/healthcheck.py"]
CMD ["listening-path", "serve"]
