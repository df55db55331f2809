# The image of every shenhou service in the production shape (docker-compose.yml): worker, codec server,
# families' portal, notification dispatcher and the CLI.
FROM python:3.11-slim
WORKDIR /app
# A font with Chinese glyphs for the supervisors' HTML report (`shenhou report --html`: its charts are drawn
# with matplotlib, which finds Noto Sans CJK SC among the system fonts).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-noto-cjk && rm -rf /var/lib/apt/lists/*
# Exact, hash-checked versions (requirements.lock, made by scripts/lock), in their own layer so a code
# change does not reinstall them.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY client ./client
COPY starter ./starter
COPY runtime ./runtime
COPY register ./register
COPY portal ./portal
COPY notify ./notify
COPY worker.py ./
RUN pip install --no-cache-dir --no-deps . && python -m compileall -q /app && useradd --system --uid 10001 shenhou \
    && install -d -o shenhou -m 0700 /var/lib/shenhou
# /var/lib/shenhou: the worker's data folder (SHENHOU_DATA_DIR in docker-compose.yml). A new named volume
# mounted there takes this folder's owner, so the worker can write its key canary.
USER shenhou
ENV SHENHOU_LOG_JSON=true
CMD ["python", "-m", "worker"]
