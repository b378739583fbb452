"""A campaign's processes die with it, whatever kills it: a worker started by a campaign asks the
kernel for SIGKILL when its parent dies (Linux' PR_SET_PDEATHSIG), as early as it can, and ends at
once if its parent is already gone."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PARENT_ENV = "NABLA_PARENT_PID"  # set by the campaign for the processes it starts
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """SIGKILL this process when the process named by NABLA_PARENT_PID ends (the variable is not
    passed on: a child of this process has another parent)."""
    parent = os.environ.pop(PARENT_ENV, None)
    if not parent or not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != int(parent):  # the parent died before the request took effect
        os._exit(0)
