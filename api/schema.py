"""The one factory that builds the GraphQL schema with its security extensions."""

from __future__ import annotations

import strawberry
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from core.settings import Settings

from .citizens.schema import CitizensMutation, CitizensQuery
from .companies.schema import CompaniesMutation, CompaniesQuery
from .errors import PresentingSchema
from .joblog.schema import JoblogMutation, JoblogQuery
from .jobs.schema import EmployerJobsMutation, EmployerJobsQuery, JobsMutation, JobsQuery
from .meetings.schema import MeetingsMutation, MeetingsQuery, MeetingsSubscription
from .notifications.schema import (
    NotificationsMutation,
    NotificationsQuery,
    NotificationsSubscription,
)
from .offers.schema import OffersMutation, OffersQuery
from .privacy.schema import PrivacyMutation, PrivacyQuery
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


def build_schema(settings: Settings) -> strawberry.Schema:
    # Extensions are passed as classes or factories so each operation gets a fresh instance;
    # shared instances would carry state between concurrent requests.
    extensions: list = [
        lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: ParserCache(maxsize=settings.parser_cache_size),
        lambda: ValidationCache(maxsize=settings.validation_cache_size),
    ]
    if not settings.introspection:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    return PresentingSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(
            auto_camel_case=True, disable_field_suggestions=settings.is_production
        ),
    )
