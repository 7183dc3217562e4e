"""Coffee meetings (kaffemøder): the citizen's deck and swipes, meeting requests and meetings.

One module per flow: ``deck``, ``swipes``, ``requests`` (both sides, and closing unanswered
ones), ``candidate`` (what a company sees), ``lifecycle`` (a meeting until it is held), ``ics``
(the calendar entry), ``contacts`` (who each side meets), ``housekeeping`` (expiry and
reminders) and ``erasure``. Shared: ``rules`` (states, allowed moves, reasons, errors; no
I/O), ``ownership`` (whose request or meeting it is), ``notices`` (what people are told) and
``repository`` (the only module that touches the feature's collections). Offers are
``api.offers``.
"""
