"""Every mapped model, imported once so Alembic and the app see the whole schema."""

from medialib.accounts.models import Account
from medialib.generate.models import Generation
from medialib.idempotency.models import IdempotencyRecord
from medialib.jobs.models import Job
from medialib.media.models import Media, MediaPin, MediaTag
from medialib.posts.models import Post, PostMedia, PostTarget
from medialib.statistics import StatisticsTaken
from medialib.uploads.models import ResumableUpload
from medialib.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from medialib.workspaces.models import ApiKey, Workspace

__all__ = [
    "Account",
    "ApiKey",
    "Generation",
    "IdempotencyRecord",
    "Job",
    "Media",
    "MediaPin",
    "MediaTag",
    "Post",
    "PostMedia",
    "PostTarget",
    "ResumableUpload",
    "StatisticsTaken",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "Workspace",
]
