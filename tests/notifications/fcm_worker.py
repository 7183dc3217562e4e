"""`jobunivers worker`, as the CLI runs it, pushing through firebase-admin to a fake FCM server:
``python -m tests.notifications.fcm_worker --fcm-url URL`` (every other setting from
JOBUNIVERS_* as usual, with JOBUNIVERS_PUSH_TRANSPORT=fcm).

The settings have no FCM endpoint and real Firebase credentials refresh against Google, so the
one thing swapped is the Firebase app the command builds: the fake's test app (fake credential,
FCM URL on 127.0.0.1), as the in-process tests use. Everything else is the real command.
"""

from __future__ import annotations

import argparse

import api.auth.firebase
from notifications.fake_fcm import firebase_test_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fcm-url", required=True)
    url = parser.parse_args().fcm_url
    api.auth.firebase.firebase_app = lambda settings: firebase_test_app(url)

    from jobunivers.cli import cli

    cli(["worker"], prog_name="jobunivers")


if __name__ == "__main__":
    main()
