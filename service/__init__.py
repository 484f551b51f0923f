"""The service layer: who may see what, and how. One facade for pages, command lines and briefs.

``access`` holds the people, their roles per jurisdiction and the rule for every action;
``guarded`` checks those rules before every read and write and decides when disclosure control
(``metrics.disclosure``) must run. Imports run one way: ``app_pages``/``ui`` -> ``service`` ->
``metrics`` -> ``data``; the command lines in ``data`` and ``metrics`` sit on top like pages.
"""
