"""Build hook: compiles presetctl/_speedups.c, the clean path's compiled passes.

The extension is optional. Without a C compiler (or Python's headers) the build goes on with a
warning and presetctl runs its pure-Python passes, which give the same findings, only slower
(presetctl/engine/speedups.py). An editable install builds it in place, next to the source; a
wheel carries it and is tagged for this platform. The compiler and its flags are the ones this
Python was built with (sysconfig), as setuptools would use on POSIX systems.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("presetctl") / "_speedups.c"


def compile_speedups(root: Path, out_dir: Path, work: Path) -> Path:
    """Compile and link the extension into ``out_dir``; CalledProcessError or OSError when that fails."""
    var = sysconfig.get_config_var
    suffix = var("EXT_SUFFIX")
    cc, ldshared = os.environ.get("CC") or var("CC"), var("LDSHARED")
    if not (suffix and cc and ldshared):
        raise OSError("this Python does not say how to build extensions")
    obj = work / "_speedups.o"
    target = out_dir / f"_speedups{suffix}"
    flags = shlex.split(var("CFLAGS") or "") + shlex.split(var("CCSHARED") or "")
    subprocess.run([*shlex.split(cc), *flags, "-O2", f"-I{sysconfig.get_paths()['include']}", "-c",
                    str(root / SOURCE), "-o", str(obj)], check=True, capture_output=True)
    subprocess.run([*shlex.split(ldshared), str(obj), "-o", str(target)], check=True, capture_output=True)
    return target


class CustomBuildHook(BuildHookInterface):  # type: ignore[misc]  # hatchling is a build requirement only
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        work = Path(tempfile.mkdtemp(prefix="presetctl-build-"))
        out_dir = root / SOURCE.parent if version == "editable" else work
        try:
            built = compile_speedups(root, out_dir, work)
        except (OSError, subprocess.CalledProcessError) as exc:  # no compiler: the pure-Python passes are used
            detail = exc.stderr.decode(errors="replace")[-2000:] if isinstance(exc, subprocess.CalledProcessError) else exc
            self.app.display_warning("presetctl: the compiled passes were not built; presetctl runs its pure-Python "
                                     f"passes (same findings, slower):\n{detail}")
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            build_data["force_include"][str(built)] = f"presetctl/{built.name}"
