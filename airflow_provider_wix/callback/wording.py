"""What the calendar owner reads after answering the consent page, in words meant for them.

The owner is a staff member with no Airflow account who just clicked a link: the page says what was
(or was not) connected, and what happens next. The route decides *which* page to show (also on a
reload, see :mod:`airflow_provider_wix.plugins.callback`); this module only words it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from airflow_provider_wix.client.models import OAuthCallbackError

if TYPE_CHECKING:
    from airflow_provider_wix.callback.state import FlowRecord

_ASK_FOR_A_NEW_LINK = "ask the person who sent you this link for a new one"


@dataclass(frozen=True)
class OwnerPage:
    title: str
    paragraphs: tuple[str, ...]


def outcome_page(record: FlowRecord, *, provider: str | None = None, owner: str | None = None) -> OwnerPage:
    """The page for a recorded answer: connected, declined, unsupported account or a Wix failure."""
    calendar = f"{provider} calendar" if provider else "calendar"
    thanks = f"Thank you, {owner}." if owner else "Thank you."
    if record.error is None:
        return OwnerPage(
            f"Your {calendar} is connected",
            (
                f"{thanks} Wix can now see when you are busy in your {calendar}.",
                "What happens next: your busy times will appear in Wix within minutes, so clients can "
                "only book you when you are free. There is nothing else to do; you can close this tab.",
                f"To stop sharing your {calendar} later, tell the person who sent you this link.",
            ),
        )
    if record.error is OAuthCallbackError.REJECT:
        return OwnerPage(
            "You declined the connection",
            (
                f"You chose not to share your {calendar} with Wix, so nothing was connected and Wix "
                "cannot see your calendar.",
                f"Changed your mind? {_ASK_FOR_A_NEW_LINK.capitalize()}; this link cannot be used again.",
            ),
        )
    if record.error is OAuthCallbackError.UNSUPPORTED:
        return OwnerPage(
            "This account cannot be connected",
            (
                f"{provider or 'Your calendar provider'} does not allow this type of account to be "
                "connected to Wix (some work or school accounts are restricted). Nothing was connected.",
                f"To try another account, {_ASK_FOR_A_NEW_LINK}.",
            ),
        )
    return OwnerPage(
        "Wix could not finish connecting your calendar",
        (
            "Something went wrong at Wix, not on your side. Nothing was connected.",
            "The person who sent you this link will send you a new one shortly.",
        ),
    )


def refused_page(reason: str) -> OwnerPage:
    """The page for a link that cannot be used (unknown, used, expired or withdrawn)."""
    return OwnerPage("This link cannot be used", (reason, f"To connect your calendar, {_ASK_FOR_A_NEW_LINK}."))
