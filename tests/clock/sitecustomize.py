"""Put a test's child process (localstripe, `make serve`, an RQ worker) at the test's moment.

Python imports `sitecustomize` at start-up from the path; a test that starts a peer in its own
process puts this folder first on PYTHONPATH and TEST_TRAVEL_TO in its environment
(tests.helpers.travelled_env), so the peer's clock starts at the test's chosen moment and
ticks from there. Nothing in the product knows of it."""

import os

if os.environ.get("TEST_TRAVEL_TO"):
    import time_machine

    time_machine.travel(os.environ["TEST_TRAVEL_TO"], tick=True).start()
