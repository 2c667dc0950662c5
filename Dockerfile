# famassist: one image for the API, the Temporal worker and the migrations.
#   docker build -t famassist .
#   docker run famassist                # famassist api (default)
#   docker run famassist famassist worker
#   docker run famassist famassist migrate
# Configuration comes only from FAMASSIST_* environment variables
# (see famassist/settings.py); docker-compose.yml sets them for the full stack.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 famassist \
    && useradd --system --uid 10001 --gid famassist --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin famassist

# Install the project (runtime dependencies only, no dev extras) at the versions of
# requirements.lock, the lock `make` installs too (`make lock` regenerates it).
WORKDIR /src
COPY . .
RUN pip install -c requirements.lock . && rm -rf build ./*.egg-info

# Run from a directory of its own, so ./var (the default FAMASSIST_VAR_DIR)
# is writable by the unprivileged user and the installed package is the one imported.
WORKDIR /app
RUN mkdir -p /app/var && chown -R famassist:famassist /app

USER famassist

# Listen on all interfaces inside the container (the settings default is 127.0.0.1).
ENV FAMASSIST_API_HOST=0.0.0.0 \
    FAMASSIST_API_PORT=8000

EXPOSE 8000

CMD ["famassist", "api"]
