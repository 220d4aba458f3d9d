"""Making the store ready to take files: `medialib storage init`.

For S3: the bucket is created when it is missing, and given the CORS rule a page on
another origin needs to PUT to it (medialib's own origin and `MEDIALIB_CORS_ORIGINS`; PUT
with Content-Type and Content-Length, ETag exposed); the bucket stays private. Locally:
the folder is made. Run once, from any machine with the settings; running it again
changes nothing that is already right.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from medialib.config import Settings


def prepare_store(settings: Settings) -> list[str]:
    """Make the configured store ready; what was done (or found done), in words."""
    url = urlsplit(settings.resolved_storage_url)
    if url.scheme == "file":
        folder = Path(url.path)
        existed = folder.is_dir()
        folder.mkdir(parents=True, exist_ok=True)
        return [f"folder {folder} {'was there' if existed else 'made'}"]
    return _prepare_bucket(settings)


def _prepare_bucket(settings: Settings) -> list[str]:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    parts = urlsplit(settings.resolved_storage_url)
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    region = options.get("region", "us-east-1")
    client = boto3.client(
        "s3",
        endpoint_url=options.get("endpoint_url"),
        region_name=region,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    bucket, done = parts.netloc, []
    try:
        client.head_bucket(Bucket=bucket)
        done.append(f"bucket {bucket} was there")
    except ClientError:
        create: dict[str, object] = {"Bucket": bucket}
        if region != "us-east-1":  # S3 refuses the default region named as a constraint
            create["CreateBucketConfiguration"] = {"LocationConstraint": region}
        client.create_bucket(**create)
        done.append(f"bucket {bucket} made (private)")
    origins = sorted({settings.public_base_url, *settings.cors_origins})
    client.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": origins,
                    "AllowedMethods": ["PUT"],
                    "AllowedHeaders": ["Content-Type", "Content-Length"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 600,
                }
            ]
        },
    )
    done.append(f"CORS: PUT from {', '.join(origins)}")
    return done
