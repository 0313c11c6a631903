"""IB Gateway and IBAutomater's needs: the gateway folder, Xvfb and pkill, the weekly restart time."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from django.conf import settings

from execution.engine.preflight.base import IB_DEFAULT_VERSION, Check


def ib_gateway_dir(*, tws_dir: str, version: str) -> Path:
    """Where IBAutomater looks for IB Gateway (IBAutomater.cs 1079-1089): on Linux from version 984 on,
    ib-tws-dir with every "Jts" replaced by "ibgateway" (the version is not in the path); before, under
    <ib-tws-dir>/ibgateway/<version>."""
    if int(version) >= 984 and sys.platform.startswith("linux"):
        return Path(tws_dir.replace("Jts", "ibgateway"))
    return Path(tws_dir) / "ibgateway" / version


def check_ib_gateway() -> Check:
    """IB Gateway where IBAutomater will look, with its executable and the JRE its installer recorded."""
    name = "IB Gateway"
    if not settings.IB_TWS_DIR:
        return Check(name, False, "IB_TWS_DIR is not set", "set IB_TWS_DIR, e.g. /home/trader/Jts")
    tws_dir = str(Path(settings.IB_TWS_DIR).expanduser().resolve())
    version = settings.IB_VERSION or IB_DEFAULT_VERSION
    if not version.isdigit():
        return Check(name, False, f"IB_VERSION={version!r} is not a number", "set IB_VERSION, e.g. 1034")
    gateway = ib_gateway_dir(tws_dir=tws_dir, version=version)
    fix = (
        f"install the offline IB Gateway {version} into {gateway} (for version >= 984 IBAutomater takes "
        "IB_TWS_DIR with Jts replaced by ibgateway), or set IB_TWS_DIR/IB_VERSION to match"
    )
    if int(version) >= 984 and "Jts" not in tws_dir:
        return Check(name, False, f"IB_TWS_DIR {tws_dir} has no 'Jts' for IBAutomater to replace", fix)
    if not gateway.is_dir():
        return Check(name, False, f"{gateway} not found (IBAutomater: IbGatewayVersionNotInstalled)", fix)
    if not any((gateway / exe).is_file() for exe in ("ibgateway", "ibgateway1")):
        return Check(name, False, f"{gateway} has no ibgateway executable", fix)
    for cfg in ("pref_jre.cfg", "inst_jre.cfg"):
        path = gateway / ".install4j" / cfg
        if path.is_file():
            jre = path.read_text(encoding="utf-8", errors="replace").replace("\r", "").replace("\n", "")
            if Path(jre).is_dir():
                return Check(name, True, f"{gateway} (version {version}, JRE {jre})")
    return Check(
        name,
        False,
        f"{gateway}/.install4j has no pref_jre.cfg or inst_jre.cfg naming an existing JRE (IBAutomater: JavaNotFound)",
        "reinstall IB Gateway with its bundled JRE",
    )


def check_x_tools() -> Check:
    """Xvfb and pkill on the engine's PATH: IBAutomater.sh runs both at every IB Gateway start (IBAutomater.sh:7-8,16
    at IBAutomater 2.0.91 = 20815f5, tests/fixtures/ibautomater/ibautomater-sh.json)."""
    missing = [program for program in ("Xvfb", "pkill") if shutil.which(program) is None]
    if missing:
        return Check(
            "Xvfb and pkill",
            False,
            f"{' and '.join(missing)} not on PATH (IBAutomater.sh runs them to start IB Gateway)",
            "sudo apt-get install xvfb procps (docs/deploy.md section 2), on the engine user's PATH",
        )
    return Check("Xvfb and pkill", True, f"{shutil.which('Xvfb')}, {shutil.which('pkill')}")


# .NET TimeSpan.Parse's invariant form [-]{d | [d.]hh:mm[:ss[.fffffff]]}: the IB plugin parses
# ib-weekly-restart-utc-time with it (InteractiveBrokersBrokerageFactory.cs:92-96 at d154917) and adds it to
# the next Sunday's date (InteractiveBrokersBrokerage.cs:5607-5611), so it must also be under a day.
TIMESPAN = re.compile(r"^\s*(-)?(?:(\d+)|(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?)\s*$")


def weekly_restart_problem(text: str) -> str:
    """Why LEAN would refuse or misread this ib-weekly-restart-utc-time, or "" when it is a time of day."""
    match = TIMESPAN.match(text)
    if match is None:
        return f"{text!r} is not a .NET TimeSpan (TimeSpan.Parse throws and the engine does not start)"
    negative, days_only, days, hours, minutes, seconds = match.groups()[:6]
    if days_only is not None:
        return f"{text!r} is {days_only} days for TimeSpan.Parse, not a time of day"
    if int(hours) > 23 or int(minutes) > 59 or int(seconds or 0) > 59:
        return f"{text!r} is out of range for TimeSpan.Parse (hours 0-23, minutes and seconds 0-59)"
    if negative or (days and int(days) > 0):
        return f"{text!r} is not a time of day from 00:00:00 to 23:59:59 (it is added to Sunday's date)"
    return ""


def check_weekly_restart() -> Check:
    """IB_WEEKLY_RESTART_UTC_TIME, when set, parses as LEAN's TimeSpan.Parse does and is a time of day."""
    name = "weekly restart time"
    value = settings.IB_WEEKLY_RESTART_UTC_TIME
    if not value:
        return Check(name, True, "not set: the IB plugin's default applies (Sunday UTC)")
    problem = weekly_restart_problem(value)
    if problem:
        return Check(name, False, problem, "set IB_WEEKLY_RESTART_UTC_TIME to HH:MM:SS UTC, e.g. 22:00:00")
    return Check(name, True, f"Sundays at {value.strip()} UTC")
