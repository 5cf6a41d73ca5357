"""IAM as AWS enforces it, in the functional tests: every AWS call a component makes is decided under its role.

Why an evaluator over recorded calls, not moto's own IAM enforcement (`set_initial_no_auth_action_count`): moto
5.2's `moto/iam/access_control.py` passes a resource to the check only for S3 (bucket and key); every other service
is checked against `"*"`, and conditions are evaluated only from keys the request does not carry (no
`dynamodb:LeadingKeys`, `s3:prefix`, `aws:ResourceTag/…`, `ssm:resourceTag/…`, `aws:TagKeys`). Our policies scope
by table and partition, queue, topic, parameter, document, tag and prefix, so moto would allow what AWS refuses.
It also needs credentials per role, where the tests compose many components on shared clients in one process.

So: `harness` hooks botocore (`BaseClient._emit_api_params`, which every call and every presigned URL passes
through) and records (service, operation, parameters) with the component in force; `requests` turns each call into
IAM's authorisations (actions, resource ARNs, condition keys); `policy` reads each role's statements from the
packaged template (`osls package`, as test_deploy makes it; the docs' own-machines policy for `studiobot node`) and
decides them as IAM does. Roles are resolved for the tests' stack (`studiobot-local`: the ci stage's names
replaced), so an ARN that names the wrong table or queue is refused as it would be on AWS.

Not checked: calls made outside any entry point (a test arranging or reading state; the CLI's commands other than
`studiobot node`, which reach only the local stack's moto; the bot's SSM read at import, before its dispatch); calls of
the worker and node processes the local stack starts (only in-process code is hooked); what AWS does with a role on
its behalf (Lambda's event sources, logs and on-failure destinations, SSM's KMS decrypt of a SecureString) — the
counts' `unused_statements` lists those statements with the ones no test reached.
"""
