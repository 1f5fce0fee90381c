#!/bin/sh
# Runs once, when the postgres-data volume is first initialised: Airflow gets its own role and
# database beside MLflow's. The password comes from the container's environment, never from here.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v airflow_password="$AIRFLOW_DB_PASSWORD" <<'SQL'
CREATE ROLE airflow LOGIN PASSWORD :'airflow_password';
CREATE DATABASE airflow OWNER airflow;
SQL
