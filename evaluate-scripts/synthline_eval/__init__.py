"""synthline's evaluation runner: trains a probe classifier on images synthline sends it.

Layers, lowest first: protocol (the wire format, no torch), probe (the models), train (the
loop), and eval_runner.py (the entry point that reads requests and writes replies)."""
