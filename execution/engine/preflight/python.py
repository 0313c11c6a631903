"""The Python LEAN's Python.NET loads: PYTHONNET_PYDLL, and pandas and numpy in that Python."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings

from execution.engine import process as engines
from execution.engine.config import PROJECT_ROOT
from execution.engine.preflight.base import COMMAND_TIMEOUT, LEAN_PYTHON_VERSION, Check, run_program


def check_pythonnet() -> Check:
    """PYTHONNET_PYDLL names a libpython of LEAN's Python version that loads."""
    fix = f"set PYTHONNET_PYDLL to a shared libpython{LEAN_PYTHON_VERSION}.so (e.g. /usr/lib/x86_64-linux-gnu/libpython{LEAN_PYTHON_VERSION}.so)"
    path = settings.PYTHONNET_PYDLL
    if not path:
        return Check("PYTHONNET_PYDLL", False, "not set", fix)
    probe = (
        "import ctypes, sys; lib = ctypes.CDLL(sys.argv[1]); lib.Py_GetVersion.restype = ctypes.c_char_p; "
        "print(lib.Py_GetVersion().decode().split()[0])"
    )
    code, output = run_program([sys.executable, "-c", probe, path])
    if code != 0:
        return Check("PYTHONNET_PYDLL", False, f"{path} does not load: {output.splitlines()[-1:]}", fix)
    if not output.startswith(f"{LEAN_PYTHON_VERSION}."):
        return Check(
            "PYTHONNET_PYDLL", False, f"{path} is Python {output}, LEAN needs {LEAN_PYTHON_VERSION}", fix
        )
    return Check("PYTHONNET_PYDLL", True, f"{path} (Python {output})")


# LEAN imports pandas when it creates a Python algorithm: AlgorithmPythonWrapper calls SetPandasConverter
# (AlgorithmFactory/Python/Wrappers/AlgorithmPythonWrapper.cs:119-123), whose PandasConverter's static constructor
# runs Py.Import("pandas") (Algorithm/QCAlgorithm.Python.cs:52-55, Common/Python/PandasConverter.cs:38-46), and
# pandas imports numpy; LEAN's image installs both with the pip of the Python of its PYTHONNET_PYDLL
# (DockerfileLeanFoundation:27,31,47-51 at 24863901; tests/fixtures/lean/pandas-import-excerpt.json).
PANDAS_PROBE = (
    "import sys\n"
    "found = [sys.version.split()[0]]\n"
    "for name in ('numpy', 'pandas'):\n"
    "    try:\n"
    "        module = __import__(name)\n"
    "    except Exception as exc:\n"
    "        print(f'{name}: {type(exc).__name__}: {exc}'); sys.exit(3)\n"
    '    found.append(f\'{name} {getattr(module, "__version__", "?")}\')\n'
    "print(', '.join(found))\n"
)


def pythonnet_interpreter_candidates(pydll: str, *, python_home: str = "") -> list[Path]:
    """Where the interpreter of the Python a libpython belongs to lives: <prefix>/bin/python3.X, then python3.

    The prefix is PYTHONHOME when the engine gets one, else the folder above the libpython's lib folder
    (/usr/lib/x86_64-linux-gnu/libpython3.11.so: /usr; /opt/miniconda3/lib/libpython3.11.so: /opt/miniconda3),
    which is where an embedded Python looks for its standard library and site-packages."""
    match = re.search(r"libpython(\d+\.\d+)", Path(pydll).name)
    version = match.group(1) if match else LEAN_PYTHON_VERSION
    prefix: Path | None = Path(python_home.split(os.pathsep)[0]) if python_home else None
    if prefix is None:
        for parent in Path(os.path.abspath(pydll)).parents:
            if parent.name in ("lib", "lib64", "lib32"):
                prefix = parent.parent
                break
    if prefix is None:
        return []
    return [prefix / "bin" / f"python{version}", prefix / "bin" / "python3"]


def check_pandas() -> Check:
    """pandas and numpy import in the Python that PYTHONNET_PYDLL belongs to, run as the engine would run it."""
    name = "pandas and numpy"
    pydll = settings.PYTHONNET_PYDLL
    if not pydll:
        return Check(
            name, False, "PYTHONNET_PYDLL is not set", "set PYTHONNET_PYDLL (see the PYTHONNET_PYDLL check)"
        )
    env = {**engines.engine_environment({"PYTHONNET_PYDLL": pydll}), "PYTHONPATH": str(PROJECT_ROOT)}
    candidates = pythonnet_interpreter_candidates(pydll, python_home=env.get("PYTHONHOME", ""))
    interpreter = next((path for path in candidates if os.access(path, os.X_OK) and path.is_file()), None)
    if interpreter is None:
        looked = ", ".join(str(path) for path in candidates) or "no lib folder above it"
        return Check(
            name,
            False,
            f"no interpreter of the Python of {pydll} ({looked})",
            "install that Python's interpreter, or set PYTHONNET_PYDLL to the libpython of a Python whose "
            "bin/ holds python3.11 with pandas and numpy (LEAN's image: /opt/miniconda3/lib/libpython3.11.so)",
        )
    try:
        done = subprocess.run(
            [str(interpreter), "-c", PANDAS_PROBE],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT * 3,  # a first pandas import compiles its bytecode
            env=env,
            cwd=tempfile.gettempdir(),
        )
        code, output = done.returncode, (done.stdout or done.stderr).strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        code, output = 127, str(exc)
    fix = (
        f"{interpreter} -m pip install pandas numpy (as the engine user; LEAN's image pins pandas 2.3.3 and "
        "numpy 1.26.4, DockerfileLeanFoundation:49-51): LEAN imports pandas when it creates the Python algorithm"
    )
    if code != 0:
        last = output.splitlines()[-1] if output else f"exit {code}"
        return Check(name, False, f"{interpreter} cannot import them: {last[:300]}", fix)
    if not output.startswith(f"{LEAN_PYTHON_VERSION}."):
        return Check(
            name,
            False,
            f"{interpreter} is Python {output.split(',')[0]}, not the {LEAN_PYTHON_VERSION} of {pydll}",
            f"set PYTHONNET_PYDLL to a libpython{LEAN_PYTHON_VERSION} whose prefix holds python{LEAN_PYTHON_VERSION}",
        )
    return Check(name, True, f"{interpreter}: Python {output}")
