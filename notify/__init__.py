"""Delivering the register's notification outbox: the dispatcher and the channels it sends through."""
