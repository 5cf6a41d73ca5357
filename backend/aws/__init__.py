"""One adapter per AWS service the domains share (S3, SQS, SNS), all on `base.AwsAdapter`."""
