# The worker and codec-server image for the production shape (docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY starter ./starter
COPY runtime ./runtime
COPY worker.py ./
RUN pip install --no-cache-dir . && python -m compileall -q /app && useradd --system --uid 10001 shenhou
USER shenhou
ENV SHENHOU_LOG_JSON=true
CMD ["python", "-m", "worker"]
