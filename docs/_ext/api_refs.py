"""Resolve a reference to a re-exported name (``simopt.theory.check``, ``simopt.sweep.tune``,
``check`` inside ``simopt.theory.check``'s docstrings) to the page where the object is documented:
the API reference documents each object once, under the module that defines it, or under ``simopt.``
for the top-level API.  A name that imports to nothing documented stays unresolved, so ``-W`` fails
on it."""
from __future__ import annotations

import importlib


def _import(name: str):
    parts = name.split(".")
    if not all(p.isidentifier() for p in parts):
        return None
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for p in parts[i:]:
                obj = getattr(obj, p)
        except AttributeError:
            return None
        return obj
    return None


def _candidates(obj):
    mod, qual = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if mod and qual:
        yield f"{mod}.{qual}"
        yield f"simopt.{qual}"
        pkg = mod.rsplit(".", 1)[0]
        yield f"{pkg}.{qual}"


def _missing_reference(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    domain = env.get_domain("py")
    names = [target]
    for ctx in (node.get("py:class"), node.get("py:module")):
        if ctx:
            names.insert(0, f"{ctx}.{target}")
    if node.get("py:module") and node.get("py:class"):
        names.insert(0, f"{node['py:module']}.{node['py:class']}.{target}")
    for name in names:
        obj = _import(name)
        if obj is None:
            continue
        for cand in _candidates(obj):
            if cand in domain.objects:
                docname = domain.objects[cand].docname
                from sphinx.util.nodes import make_refnode
                return make_refnode(app.builder, node["refdoc"], docname, cand, contnode, cand)
    return None


def setup(app):
    app.connect("missing-reference", _missing_reference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
