# One image for every Analisa process in docker-compose.yml: the API, the Dagster webserver
# and daemon (which run collection, dbt, gates and exports), and one-off CLI commands.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false \
    ANALISA_HOME=/data/analisa \
    DAGSTER_HOME=/opt/dagster/home

WORKDIR /app

# Dependencies first, from pyproject.toml and constraints.txt alone, so a code change does not
# reinstall them; constraints.txt pins the versions CI tested.
COPY pyproject.toml README.md constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -c constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# A non-root user: embedded PostgreSQL refuses root, and dbt writes target/ and logs/ here.
RUN useradd --create-home --uid 10001 analisa \
    && mkdir -p /data/analisa "$DAGSTER_HOME" \
    && chown -R analisa:analisa /app /data "$DAGSTER_HOME"

COPY --chown=analisa:analisa . .
COPY --chown=analisa:analisa dagster.yaml.example ${DAGSTER_HOME}/dagster.yaml
RUN pip install --no-deps -e .

USER analisa

# Bake the dbt manifest into the image: the definitions would otherwise run `dbt parse` on
# first load (orchestration/defs/dbt/resources.py), in every container at once. Parsing needs
# no database; the project is found at ./dbt_project (ANALISA_DBT_PROJECT_DIR overrides it).
RUN dbt parse --project-dir dbt_project --profiles-dir dbt_project

EXPOSE 8000 3000

# The API; docker-compose.yml sets each service's own command.
CMD ["python", "-m", "serving_api", "--host", "0.0.0.0", "--port", "8000"]
