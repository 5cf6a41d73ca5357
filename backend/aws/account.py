"""What the doctor reads of an AWS account: who the credentials are (STS), Lambda's account settings, Service
Quotas, which SSM parameters exist, and the workstations' profiles, volumes and keys (EC2, IAM, KMS). Read-only."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from backend.aws.base import AwsAdapter, error_code
from backend.doctor.ports import Caller, Concurrency, Key, Machine
from backend.errors import AwsError

WORKSTATION_TAG = "studiobot:workstation"


class StsIdentity(AwsAdapter):
    """Satisfies `backend.doctor.ports.Identity`."""

    service = "sts"
    label = "STS"

    def caller(self) -> Caller:
        try:
            found = self.client.get_caller_identity()
        except ClientError as error:
            raise self.aws_error(error, "use these AWS credentials") from error
        except BotoCoreError as error:  # no credentials, no region, no network
            raise AwsError(f"Could not use AWS credentials: {error}.") from error
        region = self.client.meta.region_name or ""
        return Caller(str(found["Account"]), str(found["Arn"]), region)


class LambdaSettings(AwsAdapter):
    """Satisfies `backend.doctor.ports.LambdaAccount`."""

    service = "lambda"
    label = "Lambda"

    def concurrency(self) -> Concurrency:
        try:
            limit = self.client.get_account_settings()["AccountLimit"]
        except ClientError as error:
            raise self.aws_error(error, "read Lambda's account settings") from error
        return Concurrency(int(limit["ConcurrentExecutions"]), int(limit["UnreservedConcurrentExecutions"]))

    def largest_memory_mb(self) -> int:
        largest = 0
        try:
            for page in self.client.get_paginator("list_functions").paginate():
                for function in page.get("Functions", []):
                    largest = max(largest, int(function.get("MemorySize", 0)))
        except ClientError as error:
            raise self.aws_error(error, "list Lambda functions") from error
        return largest


class ServiceQuotas(AwsAdapter):
    """Satisfies `backend.doctor.ports.Quotas`."""

    service = "service-quotas"
    label = "Service Quotas"

    def quota(self, service: str, code: str) -> float | None:
        for ask in (self.client.get_service_quota, self.client.get_aws_default_service_quota):
            try:
                return float(ask(ServiceCode=service, QuotaCode=code)["Quota"]["Value"])
            except ClientError as error:
                if error_code(error) != "NoSuchResourceException":
                    raise self.aws_error(error, f"read the quota {code}") from error
        return None


class SsmParameterNames(AwsAdapter):
    """Satisfies `backend.doctor.ports.Parameters`: names only, never a value kept or shown."""

    service = "ssm"
    label = "Systems Manager"

    def present(self, names: list[str]) -> set[str]:
        found: set[str] = set()
        try:
            for start in range(0, len(names), 10):  # GetParameters takes 10 names a call
                answer = self.client.get_parameters(Names=names[start : start + 10], WithDecryption=False)
                found |= {str(parameter["Name"]) for parameter in answer.get("Parameters", [])}
        except ClientError as error:
            raise self.aws_error(error, "look up the SSM parameters") from error
        return found


class WorkstationEstate:
    """Satisfies `backend.doctor.ports.Estate` with EC2, IAM and KMS clients made on first use."""

    def __init__(self, ec2: Any | None = None, iam: Any | None = None, kms: Any | None = None) -> None:
        self._clients = {"ec2": ec2, "iam": iam, "kms": kms}

    def _client(self, service: str) -> Any:
        if self._clients[service] is None:
            self._clients[service] = boto3.client(service)
        return self._clients[service]

    def machines(self) -> list[Machine]:
        ec2 = self._client("ec2")
        filters = [
            {"Name": "tag-key", "Values": [WORKSTATION_TAG]},
            {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
        ]
        found = []
        try:
            for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
                for reservation in page["Reservations"]:
                    found.extend(reservation["Instances"])
            volume_ids = [
                mapping["Ebs"]["VolumeId"]
                for instance in found
                for mapping in instance.get("BlockDeviceMappings", [])
                if "Ebs" in mapping
            ]
            keys: dict[str, str] = {}
            for start in range(0, len(volume_ids), 200):
                for volume in ec2.describe_volumes(VolumeIds=volume_ids[start : start + 200])["Volumes"]:
                    if volume.get("KmsKeyId"):
                        keys[volume["VolumeId"]] = volume["KmsKeyId"]
        except ClientError as error:
            raise AwsError(
                f"Could not list the workstations: EC2 said {error_code(error)}.", error_code(error)
            ) from error
        return sorted((_machine(instance, keys) for instance in found), key=lambda machine: machine.name)

    def profile_policies(self, profile_arn: str) -> set[str]:
        iam = self._client("iam")
        try:
            profile = iam.get_instance_profile(InstanceProfileName=profile_arn.rsplit("/", 1)[-1])
            policies: set[str] = set()
            for role in profile["InstanceProfile"]["Roles"]:
                attached = iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]
                policies |= {str(policy["PolicyArn"]) for policy in attached}
        except ClientError as error:
            if error_code(error) == "NoSuchEntity":
                return set()
            raise AwsError(
                f"Could not read {profile_arn}: IAM said {error_code(error)}.", error_code(error)
            ) from error
        return policies

    def key(self, key_arn: str) -> Key:
        kms = self._client("kms")
        try:
            metadata = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
            if metadata.get("KeyManager") != "CUSTOMER":
                return Key(metadata["KeyId"], customer_managed=False)
            policy = json.loads(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])
        except ClientError as error:
            raise AwsError(
                f"Could not read the key {key_arn}: KMS said {error_code(error)}.", error_code(error)
            ) from error
        statements = policy.get("Statement", [])
        return Key(metadata["KeyId"], True, statements if isinstance(statements, list) else [statements])


def _machine(instance: dict[str, Any], keys: dict[str, str]) -> Machine:
    tags = {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])}
    volumes = [m["Ebs"]["VolumeId"] for m in instance.get("BlockDeviceMappings", []) if "Ebs" in m]
    return Machine(
        name=tags.get(WORKSTATION_TAG, instance["InstanceId"]),
        instance_id=instance["InstanceId"],
        state=instance["State"]["Name"],
        profile_arn=instance.get("IamInstanceProfile", {}).get("Arn", ""),
        volume_keys=tuple(sorted({keys[v] for v in volumes if v in keys})),
    )
