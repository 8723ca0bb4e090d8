# syntax=docker/dockerfile:1
# Build stage: resolve and install into a virtual environment.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY connectors ./connectors
COPY nlp ./nlp
COPY migrations ./migrations
RUN /opt/venv/bin/pip install .

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
RUN useradd --create-home --uid 10001 listening && mkdir /data && chown listening /data
COPY --from=build /opt/venv /opt/venv
USER listening
WORKDIR /home/listening
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"
CMD ["listening-path", "serve"]
