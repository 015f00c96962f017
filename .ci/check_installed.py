"""Fail if the installed (non-editable) simopt has files that pip did not record: anything written
into the package at run time (e.g. a compiled-code cache) survives pip and can shadow a later
editable install.  An editable install has nothing in site-packages to check."""
import importlib.metadata as md
import pathlib
import sys

dist = md.distribution("simopt")
files = dist.files or []
recorded = {pathlib.Path(dist.locate_file(f)).resolve() for f in files}
pkg_dirs = {p.parent for p in recorded if p.name == "__init__.py" and p.parent.name == "simopt"}
if not pkg_dirs:
    print("check_installed: editable install (no package files in site-packages): nothing to check")
    sys.exit(0)
extra = sorted(str(p) for d in pkg_dirs for p in d.rglob("*") if p.is_file()
               and p.resolve() not in recorded and not p.name.endswith(".pyc"))
stray_dirs = sorted(str(p) for d in pkg_dirs for p in d.rglob("__pycache__")
                    if any(f.suffix in (".nbi", ".nbc") for f in p.iterdir()))
if extra or stray_dirs:
    print("check_installed: files written inside the installed package, unknown to pip:")
    for p in extra + stray_dirs:
        print("  ", p)
    sys.exit(1)
print(f"check_installed: {len(recorded)} recorded files, nothing else inside the installed package")
