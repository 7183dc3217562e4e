from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.auth.permissions import IsEmployer

from . import service
from .types import Candidate


@strawberry.type
class MeetingsQuery:
    @strawberry.field(
        permission_classes=[IsEmployer],
        description=(
            "Open the candidate behind a meeting request to one of your company's offers. "
            "The citizen sees that your company looked (Hvem har set mit CV), and a pending "
            "request becomes SEEN."
        ),
    )
    async def meeting_request_candidate(self, info: Info, request_id: strawberry.ID) -> Candidate:
        view = await service.open_candidate(
            info.context.db, info.context.require_actor(), str(request_id)
        )
        return Candidate.from_view(view)
