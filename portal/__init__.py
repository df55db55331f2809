"""The families' portal: apply online (网上申请) and follow the case (办理进度查询).

FastAPI 0.165 with Jinja2 3.1 templates, served by uvicorn 0.54: server-rendered pages that work on a phone
without any JavaScript; python-multipart parses the scanned materials' uploads, and itsdangerous (through
Starlette's SessionMiddleware) signs the session cookie and the tokens of files already uploaded.
"""
