"""What moto's CloudFormation skips of the template's buckets and table, applied through the APIs by the local deploy:
the buckets' lifecycle rules (a killed upload's parts aborted after a day, the outputs' short-lived prefixes
expired) and the table's time to live."""

from __future__ import annotations

from typing import Any

import yaml

# CloudFormation's spelling of a lifecycle rule's fields → S3's (the fields the template uses; others are refused)
_SAME = ("Status", "AbortIncompleteMultipartUpload")


class _Template(yaml.SafeLoader):
    """Reads `!Sub`, `!GetAtt`… as the plain values they wrap: only literal properties are read here."""


def _function(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_Template.add_multi_constructor("!", _function)


def lifecycle_rules(template: str) -> dict[str, list[dict[str, Any]]]:
    """Each bucket's lifecycle rules in S3's spelling, by the bucket's logical id in the template."""
    resources = yaml.load(template, Loader=_Template).get("Resources", {})
    return {
        name: [_s3_rule(rule) for rule in resource["Properties"]["LifecycleConfiguration"]["Rules"]]
        for name, resource in resources.items()
        if resource.get("Type") == "AWS::S3::Bucket"
        and "LifecycleConfiguration" in resource.get("Properties", {})
    }


def apply_lifecycles(s3: Any, bucket_names: dict[str, str], template: str) -> None:
    """Put each bucket's lifecycle rules (`bucket_names`: logical id → the bucket's name as deployed)."""
    for logical_id, rules in lifecycle_rules(template).items():
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket_names[logical_id], LifecycleConfiguration={"Rules": rules}
        )


def _s3_rule(rule: dict[str, Any]) -> dict[str, Any]:
    unknown = set(rule) - {"Id", "Prefix", "ExpirationInDays", *_SAME}
    if unknown:
        raise ValueError(
            f"the local deploy does not apply a lifecycle rule's {', '.join(sorted(unknown))} yet"
        )
    made: dict[str, Any] = {name: rule[name] for name in _SAME if name in rule}
    made["Filter"] = {"Prefix": rule.get("Prefix", "")}
    if "Id" in rule:
        made["ID"] = rule["Id"]
    if "ExpirationInDays" in rule:
        made["Expiration"] = {"Days": rule["ExpirationInDays"]}
    return made


def apply_time_to_live(dynamodb: Any, table_names: dict[str, str], template: str) -> None:
    """Turn on each table's TimeToLiveSpecification (`table_names`: logical id → the table's name as deployed)."""
    resources = yaml.load(template, Loader=_Template).get("Resources", {})
    for name, resource in resources.items():
        specification = resource.get("Properties", {}).get("TimeToLiveSpecification")
        if resource.get("Type") == "AWS::DynamoDB::Table" and specification:
            dynamodb.update_time_to_live(
                TableName=table_names[name],
                TimeToLiveSpecification={
                    "AttributeName": specification["AttributeName"],
                    "Enabled": bool(specification["Enabled"]),
                },
            )
