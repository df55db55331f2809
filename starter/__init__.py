"""The typer CLI for window clerks, officers and supervisors: a thin layer over the client package (client/)."""
