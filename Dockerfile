FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# What production runs, nothing more: the test and development tools are in requirements-dev.txt, and
# .dockerignore leaves the tests, the benchmarks and local state out of the image.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN DJANGO_DEBUG=1 python manage.py collectstatic --noinput
RUN useradd --create-home linkilike && mkdir -p /app/var && chown -R linkilike /app/var
USER linkilike
EXPOSE 8000
CMD ["gunicorn", "linkilike.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
