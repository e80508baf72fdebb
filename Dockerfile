# Punk Lab as one app process: offline (everything it needs is inside), non-root, health-checked.
# Build: docker build -t punklab .     Run one: docker run -p 8501:8501 punklab
# A class (nginx in front of N of these): docker compose up --scale app=N   (compose.yaml)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=3

WORKDIR /app
# Dependencies first: this layer is rebuilt only when the pins change. requirements.lock fixes
# every transitive version, as scripts/setup.sh does.
COPY requirements.txt requirements.lock ./
RUN python -m pip install -r requirements.txt -c requirements.lock

# The app and the assets it ships (dataset, models, GAN snapshots, sweep study): nothing is
# downloaded at run time. Owned by root, so the app's user cannot change them.
COPY app.py pyproject.toml ./
COPY ui ui
COPY punks_core punks_core
# The project itself, editable as scripts/setup.sh installs it: `punks_core` and `ui` import
# from anywhere, and the library finds the assets beside it in /app.
RUN python -m pip install --no-deps --editable .
COPY .streamlit/config.toml .streamlit/config.toml
COPY pages pages
COPY assets assets

# The Training Studio's limit on trainings at once is a folder of lock files, shared by every
# process that mounts it (compose.yaml gives the replicas one volume); owned by the app's user.
ENV PUNKLAB_TRAINING_DIR=/var/lib/punklab/trainings
RUN useradd --create-home --uid 10001 punklab \
    && mkdir -p "$PUNKLAB_TRAINING_DIR" && chown punklab "$PUNKLAB_TRAINING_DIR"
USER punklab

EXPOSE 8501
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]
CMD ["streamlit", "run", "app.py", "--server.headless=true", "--server.address=0.0.0.0", "--server.port=8501"]
