"""trajgen's Harbor integration: agent wrappers that add the per-trial routing header (agents.py) and
the host environment, which runs trusted tasks on this machine without containers (host_env.py)."""
