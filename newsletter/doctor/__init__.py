"""`newsletter doctor`: the sending configuration checked, one line per check and what to fix.

Local checks (From address, DKIM domain and key, BASE_URL) read only the settings and the key
file: a worker in production refuses to start when one fails (`refuse_to_send`). The DNS,
relay and link checks ask the outside world, and a hiccup there must not stop a worker: they
are the command's alone.
"""
