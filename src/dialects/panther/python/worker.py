"""oktopus Python worker: runs Panther rule bodies (.py files) unchanged, standard library only.

Started by src/dialects/panther/python/pool.ts as `python3 worker.py CONFIG_JSON [--once]`,
CONFIG_JSON = {"paths": [helper folders, searched first], "standins": folder of oktopus's own
minimal helper modules, searched after them}.

Protocol: JSON lines. Requests arrive on stdin; answers go to a private copy of the original
stdout. File descriptor 1 and sys.stdout are then pointed at stderr, so whatever a rule prints
(print, os.write(1, ...)) ends up on stderr and can never be mistaken for an answer.

  {"op": "events", "events": [{"d": document, "t": epoch_ms}, ...]}      the batch (no answer)
  {"op": "eval", "seq": n, "module": "/abs/rule.py", "idx": [i, ...] or null,
   "mocks": [{"objectName": name, "returnValue": value}, ...] or null}
      -> {"seq": n, "fns": [auxiliary functions the module defines], "r": [one result per event]}
      -> {"seq": n, "error": "..."}                          the module cannot be loaded
     a result: 0 (no match) | {"e": "Error: message"} (rule() raised)
             | {"f": {"title": {"v": value} or {"e": "Error: message"}, ...}} (a match, with the
               results of the auxiliary functions, computed only for matching events)
  {"op": "ping", "seq": n} -> {"seq": n, "pong": true}

With --once the worker answers the requests of its stdin and exits (synchronous fallback).
"""
import importlib.util
import json
import os
import sys
import traceback

AUX = ["title", "dedup", "alert_context", "severity", "description", "reference", "runbook", "destinations", "unique"]

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import oktopus_event  # noqa: E402
from oktopus_event import PantherEvent  # noqa: E402

_modules = {}
_events = []


def _describe(exc):
    name = type(exc).__name__
    text = str(exc)
    return f"{name}: {text}" if text else name


def _load(path):
    cached = _modules.get(path)
    if cached is not None:
        if isinstance(cached, Exception):
            raise cached
        return cached
    try:
        folder = os.path.dirname(path)
        if folder not in sys.path:
            sys.path.append(folder)
        name = f"_oktopus_rule_{len(_modules)}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        if not callable(getattr(module, "rule", None)):
            raise ImportError(f"{path} defines no rule() function")
    except BaseException as exc:  # noqa: B902 - a body that exits while loading is an error too
        error = RuntimeError(f"loading {os.path.basename(path)} failed: {_describe(exc)}")
        _modules[path] = error
        raise error
    _modules[path] = module
    return module


def _encode(value):
    """The value as JSON (wrapped events unwrapped); raises on what JSON cannot hold."""
    return json.loads(json.dumps(value, default=PantherEvent.json_encoder, allow_nan=False))


def _evaluate(module, idx, mocks):
    fns = [name for name in AUX if callable(getattr(module, name, None))]
    patched = []
    if mocks:
        from unittest.mock import MagicMock

        for mock in mocks:
            name = str(mock.get("objectName"))
            patched.append((name, name in module.__dict__, module.__dict__.get(name)))
            setattr(module, name, MagicMock(return_value=mock.get("returnValue")))
    try:
        results = []
        for i in range(len(_events)) if idx is None else idx:
            event = _events[i]
            t = event._time_ms
            oktopus_event.set_current_time(None if t is None else t / 1000.0)
            try:
                matched = bool(module.rule(event))
            except BaseException as exc:  # noqa: B902 - sys.exit() in a rule is that event's error
                results.append({"e": _describe(exc)})
                continue
            if not matched:
                results.append(0)
                continue
            out = {}
            for name in fns:
                try:
                    out[name] = {"v": _encode(getattr(module, name)(event))}
                except BaseException as exc:  # noqa: B902
                    out[name] = {"e": _describe(exc)}
            results.append({"f": out})
        return fns, results
    finally:
        for name, existed, old in reversed(patched):
            if existed:
                setattr(module, name, old)
            else:
                delattr(module, name)


def _handle(message):
    global _events
    op = message.get("op")
    if op == "events":
        _events = [PantherEvent(e.get("d") or {}, e.get("t")) for e in message.get("events", [])]
        return None
    seq = message.get("seq")
    if op == "ping":
        return {"seq": seq, "pong": True}
    if op == "eval":
        try:
            module = _load(message["module"])
        except Exception as exc:
            return {"seq": seq, "error": str(exc)}
        fns, results = _evaluate(module, message.get("idx"), message.get("mocks"))
        return {"seq": seq, "fns": fns, "r": results}
    return {"seq": seq, "error": f"unknown request {op!r}"}


def main():
    config = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    once = "--once" in sys.argv[2:]
    # Helper folders the user gives first, then oktopus's stand-ins for missing helpers.
    for folder in reversed(config.get("paths") or []):
        sys.path.insert(1, folder)
    if config.get("standins"):
        sys.path.insert(1 + len(config.get("paths") or []), config["standins"])

    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", newline="\n")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    stdin = sys.stdin.buffer
    while True:
        line = stdin.readline()
        if not line:
            break
        if not line.strip():
            continue
        try:
            message = json.loads(line)
            answer = _handle(message)
        except Exception as exc:  # a bug here, not in a rule: answer with it rather than die
            traceback.print_exc()
            answer = {"seq": None, "error": f"worker: {_describe(exc)}"}
        if answer is None:
            continue
        try:
            text = json.dumps(answer, allow_nan=False)
        except Exception as exc:
            text = json.dumps({"seq": answer.get("seq"), "error": f"worker: unencodable answer: {_describe(exc)}"})
        proto.write(text + "\n")
        proto.flush()
    if once:
        proto.flush()


if __name__ == "__main__":
    main()
