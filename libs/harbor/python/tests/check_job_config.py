"""Load trajgen-generated Harbor job configs with Harbor's OWN models, as `harbor run` would.

Usage: python check_job_config.py CONFIG.json [CONFIG.json ...]
(run with the managed Harbor env's Python, PYTHONPATH=libs/harbor/python).

Per file, the checks `harbor run -c` makes before it queues a trial: the
JobConfig model (unknown or mistyped keys fail), the agent class behind each
`import_path` and its options model (Harbor's agent preflight: extra kwargs
are refused), and the environment: a known type or an importable class, its
options. Environment classes whose provider SDK is not installed here (the
cloud ones) are checked by type only, and say so.

Prints one JSON object: {file: {"ok": bool, "errors": [...], "notes": [...]}}.
"""

import json
import sys


def ignored_keys(raw, config):
    """Keys of the file that Harbor's models do not know (job, agents, environment, verifier, retry, datasets)."""
    out = []

    def compare(where, data, model):
        known = set(type(model).model_fields)
        for key in data:
            if key not in known:
                out.append(f"{where}.{key}: not a key of Harbor's {type(model).__name__} (Harbor would ignore it)")

    compare("job", raw, config)
    for name in ("environment", "verifier", "retry"):
        if isinstance(raw.get(name), dict):
            compare(name, raw[name], getattr(config, name))
    for i, agent in enumerate(raw.get("agents") or []):
        compare(f"agents[{i}]", agent, config.agents[i])
    for i, dataset in enumerate(raw.get("datasets") or []):
        compare(f"datasets[{i}]", dataset, config.datasets[i])
    return out


def check(path):
    from harbor.agents.factory import AgentFactory
    from harbor.environments.factory import EnvironmentFactory
    from harbor.models.job.config import JobConfig

    errors, notes = [], []
    try:
        with open(path) as f:
            raw = json.load(f)
        config = JobConfig.model_validate(raw)
    except Exception as error:  # pydantic ValidationError, JSON errors
        return {"ok": False, "errors": [f"JobConfig: {error}"], "notes": notes}
    # Harbor's models IGNORE unknown keys: a misspelt key would silently do nothing, so it is an error here.
    errors.extend(ignored_keys(raw, config))
    for agent in config.agents:
        try:
            AgentFactory.get_agent_class_from_config(agent)
            AgentFactory.run_preflight(agent, skip_credential_checks=True)
        except BaseException as error:
            errors.append(f"agent {agent.import_path or agent.name}: {type(error).__name__}: {error}")
    env = config.environment
    try:
        if env.import_path is not None:
            EnvironmentFactory.run_preflight(None, import_path=env.import_path, kwargs=env.kwargs)
            EnvironmentFactory.validate_options(env)
        else:
            try:
                EnvironmentFactory.validate_options(env)
            except ImportError as error:
                notes.append(f"environment {env.type.value}: type accepted; its provider SDK is not installed here ({error.name or error})")
    except BaseException as error:
        errors.append(f"environment {env.import_path or env.type}: {type(error).__name__}: {error}")
    return {"ok": not errors, "errors": errors, "notes": notes}


def main():
    print(json.dumps({path: check(path) for path in sys.argv[1:]}))


if __name__ == "__main__":
    main()
