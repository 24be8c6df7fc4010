# mockstudio: a local mock of Twilio Studio's v2 REST API.
# A plain mirror of the README's install: no build tools, no extra packages.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY mockstudio ./mockstudio
# /data belongs to the user, so a volume mounted there (a state file) is writable by it.
RUN pip install . && useradd --create-home --uid 10001 mockstudio \
    && install -d -o mockstudio -g mockstudio /data
COPY fixtures ./fixtures

USER mockstudio
# Inside the container listen on every interface; outside, publish the port as you like.
# Behind another host name (e.g. http://mockstudio:8080 in docker-compose) set
# MOCKSTUDIO_PUBLIC_URL so that `url`, `links` and paging URLs point where clients can reach.
ENV MOCKSTUDIO_HOST=0.0.0.0 \
    MOCKSTUDIO_PORT=8080 \
    MOCKSTUDIO_FIXTURES=/app/fixtures
EXPOSE 8080

# No curl in the image: Python's standard library does the check.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/_mockstudio/health' % os.environ.get('MOCKSTUDIO_PORT', '8080'), timeout=2)"]

CMD ["mockstudio"]
