"""devhost: a local stand-in for the Azure Functions host (blob, queue, timer and HTTP triggers).

The Azure Functions Core Tools cannot be installed offline, so this package loads a Python
v2-model `function_app.py`, reads its trigger bindings and fires the functions against Azurite
(or any storage account) with the host's semantics: blob receipts, poison queues, dequeue
counts, NCRONTAB timers; HTTP functions are served on 127.0.0.1 with the host's routing. See
docs/devhost.md.
"""
