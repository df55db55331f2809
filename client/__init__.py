"""The client side of the workflows: start a case, read its status, decide, report payments, list what is
overdue. The CLI (starter/), the portal, the bench and the tests call it; it knows nothing of typer."""
