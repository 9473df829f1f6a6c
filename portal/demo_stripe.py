"""The demo's card payments: localstripe, a Stripe API emulator, on 127.0.0.1 (no real money).

`make run` starts it beside the dev server when no Stripe keys are set:

    python -m portal.demo_stripe --port 8420 --state-dir instance/demo-stripe \
        --webhook http://127.0.0.1:5000/stripe/webhook

and sets PORTAL_STRIPE_DEMO_URL, from which `portal.config` fills in the STRIPE_* settings
below (never in production). localstripe's own CLI listens on every interface and keeps its
state in /tmp/localstripe.pickle; this runs its aiohttp app on loopback only, keeps the state
in --state-dir (so intents the portal remembers survive a restart) and registers the portal's
webhook, so a card payment marks the invoice paid as a real one would."""

from __future__ import annotations

import argparse
import logging
import pickle
from pathlib import Path

HOST = "127.0.0.1"
DEFAULT_PORT = 8420
SECRET_KEY = "sk_test_demo"  # noqa: S105 (the emulator accepts any key; no real account)
PUBLISHABLE_KEY = "pk_test_demo"
WEBHOOK_SECRET = "whsec_demo_local_emulator"  # noqa: S105 (signs the emulator's events only)
STATE_FILE = "localstripe.pickle"

log = logging.getLogger(__name__)


def js_url(base: str) -> str:
    """Where the emulator serves its stand-in for Stripe.js."""
    return f"{base.rstrip('/')}/js.stripe.com/v3/"


def settings(base: str) -> dict[str, str]:
    """The STRIPE_* configuration that points the portal at the emulator at `base`."""
    return {
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": base.rstrip("/"),
        "STRIPE_JS_URL": js_url(base),
    }


def keep_state_in(folder: Path) -> None:
    """Make localstripe keep its store in `folder` instead of /tmp, and load it from there."""
    from localstripe import resources

    folder.mkdir(parents=True, exist_ok=True)
    state = folder / STATE_FILE

    def dump_to_disk(store) -> None:
        temporary = state.with_suffix(".tmp")
        with temporary.open("wb") as handle:
            pickle.dump(dict(store), handle, protocol=pickle.HIGHEST_PROTOCOL)
        temporary.replace(state)  # a crash mid-write never leaves half a file

    def try_load_from_disk(store) -> None:
        try:
            with state.open("rb") as handle:
                saved = pickle.load(handle)  # noqa: S301 (our own file, written above)
        except FileNotFoundError:
            return
        except Exception:  # another localstripe version's file: start afresh
            log.warning("Could not read %s; the demo emulator starts empty.", state)
            return
        dict.clear(store)
        dict.update(store, saved)

    resources.Store.dump_to_disk = dump_to_disk
    resources.Store.try_load_from_disk = try_load_from_disk


def main(argv: list[str] | None = None) -> None:
    """Serve the emulator on 127.0.0.1 until stopped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--state-dir", type=Path, default=Path("instance/demo-stripe"))
    parser.add_argument("--webhook", help="the portal's /stripe/webhook URL")
    args = parser.parse_args(argv)

    from aiohttp import web
    from localstripe.resources import store
    from localstripe.server import app
    from localstripe.webhooks import register_webhook

    keep_state_in(args.state_dir)
    store.try_load_from_disk()
    if args.webhook:
        register_webhook("portal", args.webhook, WEBHOOK_SECRET, None)
    print(  # noqa: T201 (the one line make run shows about it)
        f"Demo card payments: Stripe emulator on http://{HOST}:{args.port} (no real money; "
        "test card 4242 4242 4242 4242)",
        flush=True,
    )
    web.run_app(app, host=HOST, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
