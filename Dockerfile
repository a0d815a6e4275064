# The back office image (target `production`, the default): web (gunicorn), Celery worker
# and beat run it. Target `sandbox` adds the sandbox's extra (aiohttp) for the InfinitePay
# sandbox; the production image goes without it.
FROM python:3.11-slim-bookworm AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml ./
RUN python - <<'PY' > /tmp/requirements.txt
import tomllib
print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))
PY
RUN pip install -r /tmp/requirements.txt

COPY . .
RUN pip install --no-deps . \
    && DEBUG=false SECRET_KEY=build-only FIELD_ENCRYPTION_KEYS=$(python -c "import base64,os;print(base64.urlsafe_b64encode(os.urandom(32)).decode())") \
       python manage.py collectstatic --noinput \
    && useradd --system --uid 1000 --home /app backoffice \
    && mkdir -p /app/var && chown -R backoffice /app/var

USER backoffice
EXPOSE 8000
CMD ["gunicorn", "backoffice.wsgi:application", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000"]

# The InfinitePay sandbox: the same image plus the `sandbox` extra.
FROM app AS sandbox
USER root
RUN python - <<'PY' > /tmp/sandbox-requirements.txt
import tomllib
print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["sandbox"]))
PY
RUN pip install -r /tmp/sandbox-requirements.txt
USER backoffice
EXPOSE 8090
CMD ["python", "-m", "sandbox", "--host", "0.0.0.0", "--port", "8090"]

# The default target: the back office without the sandbox's packages.
FROM app AS production
