# Airbyte's Python connector convention: the shared base image, the package installed from the lock file,
# and the Airbyte entrypoint pointing at main.py.
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.2
FROM ${BASE_IMAGE}

WORKDIR /airbyte/integration_code

COPY pyproject.toml poetry.lock README.md main.py ./
COPY source_pinterest ./source_pinterest
COPY pinterest_emulator ./pinterest_emulator

# Install exactly what poetry.lock pins (hash-checked), then the connector itself without re-resolving.
RUN pip install --no-cache-dir "pip>=25" "poetry>=2.1,<3" "poetry-plugin-export>=1.8" \
 && poetry export --format requirements.txt --output /tmp/requirements.txt \
 && pip install --no-cache-dir --require-hashes -r /tmp/requirements.txt \
 && pip install --no-cache-dir --no-deps . \
 && pip uninstall -y poetry poetry-plugin-export \
 && rm /tmp/requirements.txt

ENV AIRBYTE_ENTRYPOINT="python /airbyte/integration_code/main.py"
ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]

LABEL io.airbyte.name=airbyte/source-pinterest
LABEL io.airbyte.version=0.1.0
