# Airbyte's Python connector convention: the shared base image, the package installed from the lock file,
# and the Airbyte entrypoint pointing at main.py.
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.2
FROM ${BASE_IMAGE}

WORKDIR /airbyte/integration_code

# The dependencies first, exactly as poetry.lock pins them (hash-checked): this layer is rebuilt only when the lock
# changes, not on every change to the connector's code.
COPY pyproject.toml poetry.lock ./
RUN pip install --no-cache-dir "pip>=25" "poetry>=2.1,<3" "poetry-plugin-export>=1.8" \
 && poetry export --format requirements.txt --output /tmp/requirements.txt \
 && pip install --no-cache-dir --require-hashes -r /tmp/requirements.txt \
 && pip uninstall -y poetry poetry-plugin-export \
 && rm /tmp/requirements.txt

# Then the connector itself, without re-resolving. Only source_pinterest ships; the emulator stays in the repository.
COPY README.md main.py ./
COPY source_pinterest ./source_pinterest
RUN pip install --no-cache-dir --no-deps .

ENV AIRBYTE_ENTRYPOINT="python /airbyte/integration_code/main.py"
ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]

LABEL io.airbyte.name=airbyte/source-pinterest
LABEL io.airbyte.version=0.1.0
