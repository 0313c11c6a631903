"""`python -m execution.simulator --config <workdir>/config.json`: run the simulator engine."""

import sys

from execution.simulator.loop import main

sys.exit(main())
