"""The one factory that builds the GraphQL schema with its security extensions."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig

from core.settings import Settings

from .citizens.schema import CitizensMutation, CitizensQuery
from .companies.schema import CompaniesMutation, CompaniesQuery
from .errors import PresentingSchema
from .joblog.schema import JoblogMutation, JoblogQuery
from .jobs.schema import EmployerJobsMutation, EmployerJobsQuery, JobsMutation, JobsQuery
from .limits import DocumentLimits
from .meetings.schema import MeetingsMutation, MeetingsQuery, MeetingsSubscription
from .notifications.schema import (
    NotificationsMutation,
    NotificationsQuery,
    NotificationsSubscription,
)
from .offers.schema import OffersMutation, OffersQuery
from .privacy.schema import PrivacyMutation, PrivacyQuery
from .scalars import SCALAR_OVERRIDES, InputGuard
from .taxonomy.schema import TaxonomyQuery
from .viewer.schema import ViewerQuery, ViewerSubscription


@strawberry.type(description="Everything the app can read.")
class Query(
    ViewerQuery,
    TaxonomyQuery,
    JobsQuery,
    CitizensQuery,
    JoblogQuery,
    PrivacyQuery,
    MeetingsQuery,
    OffersQuery,
    CompaniesQuery,
    EmployerJobsQuery,
    NotificationsQuery,
):
    pass


@strawberry.type(description="Everything the app can change.")
class Mutation(
    JobsMutation,
    CitizensMutation,
    JoblogMutation,
    PrivacyMutation,
    MeetingsMutation,
    OffersMutation,
    CompaniesMutation,
    EmployerJobsMutation,
    NotificationsMutation,
):
    pass


@strawberry.type(description="Live updates over graphql-transport-ws.")
class Subscription(ViewerSubscription, MeetingsSubscription, NotificationsSubscription):
    pass


def build_schema(
    settings: Settings, *, registered: Callable[[str], bool] | None = None
) -> strawberry.Schema:
    """The schema. ``registered`` says whether a document text is one of the app's registered
    operations (api/persisted.py): those are cached whatever their length."""
    # Extensions are passed as classes or factories so each operation gets a fresh instance;
    # shared instances would carry state between concurrent requests. What operations share
    # on purpose (the document caches, the rate limits) lives in one DocumentLimits per schema.
    limits = DocumentLimits(settings, registered=registered)
    extensions: list = [
        lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        # Rate limits, request sizes, cost, and the parse/validation caches (api/limits.py).
        limits.extension,
        InputGuard,  # text, list and date rules of every input (api/scalars.py)
    ]
    if not settings.introspection:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    schema = PresentingSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        scalar_overrides=SCALAR_OVERRIDES,
        config=StrawberryConfig(
            auto_camel_case=True, disable_field_suggestions=settings.is_production
        ),
    )
    schema.document_limits = limits  # type: ignore[attr-defined]
    return schema
