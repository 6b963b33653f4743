"""devhost: a local stand-in for the Azure Functions host (blob, queue and timer triggers).

The Azure Functions Core Tools cannot be installed offline, so this package loads a Python
v2-model `function_app.py`, reads its trigger bindings and fires the functions against Azurite
(or any storage account) with the host's semantics: blob receipts, poison queues, dequeue
counts, NCRONTAB timers. See docs/devhost.md.
"""
