FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
# CPU torch from the PyTorch CPU index keeps the image small; everything else is pinned.
COPY requirements.lock .
RUN pip install --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.lock
COPY . .
RUN SECRET_KEY=build-only python manage.py collectstatic --no-input
RUN useradd --create-home myolens && mkdir -p /data/media && chown -R myolens /data
USER myolens
EXPOSE 8000
CMD ["gunicorn", "clinic.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
