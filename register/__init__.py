"""The case register: the relational system of record that outlives the workflow engine's retention.

Workflows never touch it: activities write it, and the CLI, the portal and the reports read it.
"""
