"""The typer CLI for window clerks, officers and supervisors, and the client-side operations it uses."""
