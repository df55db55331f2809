"""How the tests start their dev servers (kept apart from conftest so a test module's workflows can
import it inside the sandbox)."""

from datetime import timedelta

from runtime.devserver import PAYLOAD_LIMITS

TIME_SKIPPING_FLAG = [
    "--dynamic-config-value", "frontend.WorkflowTimeSkippingEnabled=true",
    # Each timer fired while fast-forwarding otherwise costs about a second of real time.
    "--dynamic-config-value", "history.timerProcessorMaxTimeShift=\"10ms\"",
    # The server suggests continue-as-new after 1,000 events instead of production's default,
    # so the flood test stays short.
    "--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=1000",
    # The same payload limits as the embedded default's server (scripts/run).
    *PAYLOAD_LIMITS,
]
# The SDK waits 5 s for a dev server to answer; a cold start on a busy 2-core machine can take longer.
DEV_SERVER_STARTUP = timedelta(seconds=60)
