# mockstudio: a local mock of Twilio Studio's v2 REST API.
#
# BASE is any Debian-based image with Python >= 3.11 and its venv module: the default, or your own
# (e.g. a mirror of it: docker build --build-arg BASE=registry.example.com/python:3.12-slim .).
ARG BASE=python:3.12-slim

# Build stage: pip installs mockstudio into a virtualenv (the same on every base: Debian's own
# python3 refuses system-wide installs), leaving its build/ and *.egg-info behind in /src; pip and
# setuptools go too, the server needs neither.
FROM ${BASE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY mockstudio ./mockstudio
RUN python3 -m venv /opt/mockstudio \
    && /opt/mockstudio/bin/pip install --no-cache-dir . \
    && /opt/mockstudio/bin/pip uninstall --yes pip setuptools

# Final stage: the virtualenv, the fixtures and an unprivileged user; no sources, no build tools.
FROM ${BASE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/mockstudio/bin:$PATH
# /data belongs to the user, so a volume mounted there (a state file) is writable by it.
RUN groupadd --gid 10001 mockstudio \
    && useradd --uid 10001 --gid 10001 --create-home mockstudio \
    && install -d -o 10001 -g 10001 /data
COPY --from=build /opt/mockstudio /opt/mockstudio
COPY fixtures /app/fixtures
WORKDIR /app

# Numeric, so that Kubernetes' runAsNonRoot can check it is not root.
USER 10001:10001
# Inside the container listen on every interface; outside, publish the port on 127.0.0.1
# (-p 127.0.0.1:8080:8080) unless MOCKSTUDIO_ADMIN_TOKEN guards the control plane.
# Behind another host name (e.g. http://mockstudio:8080 in docker-compose) set
# MOCKSTUDIO_PUBLIC_URL so that `url`, `links` and paging URLs point where clients can reach.
ENV MOCKSTUDIO_HOST=0.0.0.0 \
    MOCKSTUDIO_PORT=8080 \
    MOCKSTUDIO_FIXTURES=/app/fixtures
EXPOSE 8080

# No curl in the image: Python's standard library does the check.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/_mockstudio/health' % os.environ.get('MOCKSTUDIO_PORT', '8080'), timeout=2)"]

# SIGTERM (docker stop) shuts the server down gracefully; it runs as PID 1 and exits with status 0.
CMD ["mockstudio"]
