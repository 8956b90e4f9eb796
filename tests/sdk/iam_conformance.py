#!/usr/bin/env python3
"""Check the akguard emulator's IAM and CTS wire format with Huawei Cloud's official SDK.

The script drives a running emulator with `huaweicloudsdkiam` (v3 IamClient) and
`huaweicloudsdkcts` (v3 CtsClient): identity discovery, create, list, show, update and
delete of permanent access keys, the two-key quota, an inactive key, a bad signature, a
forbidden request and a trace query. Every response must parse into the SDK's models, carry
no field the models lack, and hold the expected values.

Environment (all required):
  AKGUARD_IAM_ENDPOINT   emulator URL, http://127.0.0.1:<port>; other hosts are rejected
  AKGUARD_AK, AKGUARD_SK key of a user that has exactly one key and may manage its own
  AKGUARD_USER_ID, AKGUARD_USER_NAME      that user
  AKGUARD_DOMAIN_ID, AKGUARD_DOMAIN_NAME  its account
  AKGUARD_PROJECT_ID     project of AKGUARD_REGION, the region that stores IAM traces
  AKGUARD_REGION
  AKGUARD_OTHER_USER_ID  another user of the account whose keys the first may not manage

Secret keys are never printed. Exit status: 0 when everything matched, 1 on any mismatch,
2 on a usage error.
"""

import json
import os
import re
import sys
import time
from urllib.parse import urlparse

# The emulator runs on this machine: never send its traffic through a proxy.
os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ["no_proxy"] = "127.0.0.1,localhost"

from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials  # noqa: E402
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException  # noqa: E402
from huaweicloudsdkcore.http.http_config import HttpConfig  # noqa: E402
from huaweicloudsdkcts.v3 import CtsClient, ListTracesRequest  # noqa: E402
from huaweicloudsdkiam.v3 import (  # noqa: E402
    CreateCredentialOption,
    CreatePermanentAccessKeyRequest,
    CreatePermanentAccessKeyRequestBody,
    DeletePermanentAccessKeyRequest,
    IamClient,
    KeystoneListAuthDomainsRequest,
    KeystoneListProjectsRequest,
    KeystoneShowUserRequest,
    ListPermanentAccessKeysRequest,
    ShowPermanentAccessKeyRequest,
    ShowUserRequest,
    UpdateCredentialOption,
    UpdatePermanentAccessKeyRequest,
    UpdatePermanentAccessKeyRequestBody,
)

KEY_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
ACCESS_KEY_ID = re.compile(r"^[A-Z0-9]{20}$")
SECRET_ACCESS_KEY = re.compile(r"^[A-Za-z0-9]{40}$")
PRIMITIVES = {"str": str, "int": int, "bool": bool, "float": float}

failures = []
secrets = []


def redact(text):
    for secret in secrets:
        text = text.replace(secret, "<redacted>")
    return text


def fail(message):
    failures.append(redact(message))
    print("MISMATCH: " + redact(message))


def expect(what, actual, expected):
    if actual != expected:
        fail(f"{what}: got {actual!r}, expected {expected!r}")


def check_type(path, value, type_name, raw):
    if type_name.startswith("list["):
        inner = type_name[len("list["):-1]
        if not isinstance(value, list) or not isinstance(raw, list):
            fail(f"{path}: expected a list")
            return
        for index, (item, raw_item) in enumerate(zip(value, raw)):
            check_type(f"{path}[{index}]", item, inner, raw_item)
    elif type_name in PRIMITIVES:
        expected_type = PRIMITIVES[type_name]
        wrong_bool = expected_type is not bool and isinstance(value, bool)
        if not isinstance(value, expected_type) or wrong_bool:
            fail(f"{path}: expected {type_name}, got {type(value).__name__}")
    elif type(value).__name__ != type_name:
        fail(f"{path}: expected model {type_name}, got {type(value).__name__}")
    else:
        check_model(path, value, raw)


def check_model(path, model, raw):
    """Require every JSON field to be known to the model and every value to have its type."""
    if not isinstance(raw, dict):
        fail(f"{path}: expected a JSON object")
        return
    json_to_attribute = {key: attribute for attribute, key in model.attribute_map.items()}
    for key in raw:
        if key not in json_to_attribute:
            fail(f"{path}: field {key!r} is not in model {type(model).__name__}")
    for attribute, type_name in model.openapi_types.items():
        key = model.attribute_map[attribute]
        if key not in raw:
            continue
        value = getattr(model, attribute)
        if value is None:
            if raw[key] is not None:
                fail(f"{path}.{key}: the SDK dropped a non-null value")
            continue
        check_type(f"{path}.{key}", value, type_name, raw[key])


def check_response(name, response, status):
    expect(f"{name} status", response.status_code, status)
    if status == 204:
        expect(f"{name} body", response.raw_content, b"")
        return
    check_model(name, response, json.loads(response.raw_content))


def expect_error(name, call, status, code=None, message=None):
    """Run `call`, which must fail with `status` and, when given, the error code and message."""
    try:
        call()
    except ClientRequestException as error:
        expect(f"{name} status", error.status_code, status)
        if code is not None:
            expect(f"{name} error_code", str(error.error_code), code)
        if message is not None and message not in (error.error_msg or ""):
            fail(f"{name} error_msg: {error.error_msg!r} lacks {message!r}")
        return
    fail(f"{name}: the request succeeded, expected status {status}")


def config():
    http_config = HttpConfig.get_default_config()
    http_config.timeout = (5, 30)
    return http_config


def iam_client(credentials, endpoint):
    return (
        IamClient.new_builder()
        .with_http_config(config())
        .with_credentials(credentials)
        .with_endpoints([endpoint])
        .build()
    )


def environment():
    names = [
        "AKGUARD_IAM_ENDPOINT", "AKGUARD_AK", "AKGUARD_SK", "AKGUARD_USER_ID",
        "AKGUARD_USER_NAME", "AKGUARD_DOMAIN_ID", "AKGUARD_DOMAIN_NAME",
        "AKGUARD_PROJECT_ID", "AKGUARD_REGION", "AKGUARD_OTHER_USER_ID",
    ]
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        print("missing environment variables: " + ", ".join(missing), file=sys.stderr)
        sys.exit(2)
    env = {name: os.environ[name] for name in names}
    host = urlparse(env["AKGUARD_IAM_ENDPOINT"]).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"AKGUARD_IAM_ENDPOINT must be a loopback address, got host {host!r}", file=sys.stderr)
        sys.exit(2)
    secrets.append(env["AKGUARD_SK"])
    return env


def main():
    env = environment()
    endpoint = env["AKGUARD_IAM_ENDPOINT"]
    ak, sk, user_id = env["AKGUARD_AK"], env["AKGUARD_SK"], env["AKGUARD_USER_ID"]

    # Identity discovery exactly as the SDK does it: GET /v3/auth/domains on the IAM endpoint.
    credentials = GlobalCredentials(ak, sk).with_iam_endpoint(endpoint)
    client = iam_client(credentials, endpoint)
    credentials.process_auth_params(client.get_http_client(), None)
    expect("discovered domain id", credentials.domain_id, env["AKGUARD_DOMAIN_ID"])

    domains = client.keystone_list_auth_domains(KeystoneListAuthDomainsRequest())
    check_response("KeystoneListAuthDomains", domains, 200)
    expect("domain name", domains.domains[0].name, env["AKGUARD_DOMAIN_NAME"])

    projects = client.keystone_list_projects(KeystoneListProjectsRequest(name=env["AKGUARD_REGION"]))
    check_response("KeystoneListProjects", projects, 200)
    expect("projects of the region", [p.id for p in projects.projects], [env["AKGUARD_PROJECT_ID"]])

    user = client.show_user(ShowUserRequest(user_id=user_id))
    check_response("ShowUser", user, 200)
    expect("user name", user.user.name, env["AKGUARD_USER_NAME"])
    expect("user is_domain_owner", user.user.is_domain_owner, False)
    expect("user domain_id", user.user.domain_id, env["AKGUARD_DOMAIN_ID"])

    keystone_user = client.keystone_show_user(KeystoneShowUserRequest(user_id=user_id))
    check_response("KeystoneShowUser", keystone_user, 200)
    expect("keystone user enabled", keystone_user.user.enabled, True)

    listed = client.list_permanent_access_keys(ListPermanentAccessKeysRequest())
    check_response("ListPermanentAccessKeys", listed, 200)
    expect("keys before create", [c.access for c in listed.credentials], [ak])

    option = CreateCredentialOption(user_id=user_id, description="conformance")
    created = client.create_permanent_access_key(
        CreatePermanentAccessKeyRequest(body=CreatePermanentAccessKeyRequestBody(credential=option))
    )
    new = created.credential
    secrets.append(new.secret or "")
    check_response("CreatePermanentAccessKey", created, 201)
    expect("new access key format", bool(ACCESS_KEY_ID.match(new.access or "")), True)
    expect("new secret key format", bool(SECRET_ACCESS_KEY.match(new.secret or "")), True)
    expect("new key status", new.status, "active")
    expect("new key user_id", new.user_id, user_id)
    expect("new key description", new.description, "conformance")
    expect("new key create_time format", bool(KEY_TIME.match(new.create_time or "")), True)

    listed = client.list_permanent_access_keys(ListPermanentAccessKeysRequest(user_id=user_id))
    check_response("ListPermanentAccessKeys", listed, 200)
    expect("keys after create", sorted(c.access for c in listed.credentials), sorted([ak, new.access]))

    shown = client.show_permanent_access_key(ShowPermanentAccessKeyRequest(access_key=new.access))
    check_response("ShowPermanentAccessKey", shown, 200)
    expect("unused key last_use_time", shown.credential.last_use_time, new.create_time)

    # Sign one request with the new key, then its last_use_time must move past create_time.
    time.sleep(0.01)
    new_client = iam_client(GlobalCredentials(new.access, new.secret, env["AKGUARD_DOMAIN_ID"]), endpoint)
    check_response("ListPermanentAccessKeys (new key)",
                   new_client.list_permanent_access_keys(ListPermanentAccessKeysRequest()), 200)
    shown = client.show_permanent_access_key(ShowPermanentAccessKeyRequest(access_key=new.access))
    if not shown.credential.last_use_time > new.create_time:
        fail(f"used key last_use_time {shown.credential.last_use_time} is not after {new.create_time}")

    expect_error(
        "CreatePermanentAccessKey over quota",
        lambda: client.create_permanent_access_key(
            CreatePermanentAccessKeyRequest(body=CreatePermanentAccessKeyRequestBody(credential=option))
        ),
        400,
        message="akSkNumExceed",
    )

    update = UpdateCredentialOption(status="inactive", description="retired")
    updated = client.update_permanent_access_key(
        UpdatePermanentAccessKeyRequest(
            access_key=new.access, body=UpdatePermanentAccessKeyRequestBody(credential=update)
        )
    )
    check_response("UpdatePermanentAccessKey", updated, 200)
    expect("updated status", updated.credential.status, "inactive")
    expect("updated description", updated.credential.description, "retired")

    expect_error(
        "request signed by an inactive key",
        lambda: new_client.list_permanent_access_keys(ListPermanentAccessKeysRequest()),
        400,
        code="IAM.1107",
    )

    deleted = client.delete_permanent_access_key(DeletePermanentAccessKeyRequest(access_key=new.access))
    check_response("DeletePermanentAccessKey", deleted, 204)
    expect_error(
        "ShowPermanentAccessKey after delete",
        lambda: client.show_permanent_access_key(ShowPermanentAccessKeyRequest(access_key=new.access)),
        404,
        code="IAM.0004",
    )

    expect_error(
        "ListPermanentAccessKeys of another user",
        lambda: client.list_permanent_access_keys(
            ListPermanentAccessKeysRequest(user_id=env["AKGUARD_OTHER_USER_ID"])
        ),
        403,
        code="IAM.0002",
    )

    wrong_secret = "x" * 40
    bad_client = iam_client(GlobalCredentials(ak, wrong_secret, env["AKGUARD_DOMAIN_ID"]), endpoint)
    expect_error(
        "request with a bad signature",
        lambda: bad_client.list_permanent_access_keys(ListPermanentAccessKeysRequest()),
        401,
        code="APIGW.0301",
        message="verify aksk signature fail",
    )

    cts = (
        CtsClient.new_builder()
        .with_http_config(config())
        .with_credentials(BasicCredentials(ak, sk, env["AKGUARD_PROJECT_ID"]))
        .with_endpoints([endpoint])
        .build()
    )
    traces = cts.list_traces(ListTracesRequest(trace_type="system", limit=200, access_key_id=ak))
    check_response("ListTraces", traces, 200)
    names = {trace.trace_name for trace in traces.traces}
    for name in ["createCredential", "showCredential", "updateCredential", "deleteCredential"]:
        if name not in names:
            fail(f"ListTraces lacks a {name} trace of the caller's key")
    expect("ListTraces count", traces.meta_data.count, len(traces.traces))
    for trace in traces.traces:
        expect("trace user access_key_id", trace.user.access_key_id, ak)

    # Page through the IAM traces two at a time with the marker, inside an explicit window.
    # Filtering on IAM leaves out the ListTraces calls themselves, which CTS records too.
    now_ms = int(time.time() * 1000)
    window = {"_from": now_ms - 3600 * 1000, "to": now_ms + 60 * 1000}
    query = {"trace_type": "system", "access_key_id": ak, "service_type": "IAM", **window}
    whole = cts.list_traces(ListTracesRequest(limit=200, **query))
    check_response("ListTraces of IAM", whole, 200)
    first = cts.list_traces(ListTracesRequest(limit=2, **query))
    check_response("ListTraces first page", first, 200)
    expect("first page count", first.meta_data.count, 2)
    if not first.meta_data.marker:
        fail("first page has no marker although more traces match")
    paged = [trace.trace_id for trace in first.traces]
    marker = first.meta_data.marker
    while marker:
        page = cts.list_traces(ListTracesRequest(limit=2, next=marker, **query))
        check_response("ListTraces next page", page, 200)
        paged += [trace.trace_id for trace in page.traces]
        marker = page.meta_data.marker
        if len(paged) > len(whole.traces):
            fail("paging returned more traces than one large page")
            break
    expect("traces seen by paging", paged, [trace.trace_id for trace in whole.traces])

    if failures:
        print(f"{len(failures)} mismatches")
        return 1
    print("all checks matched")
    return 0


if __name__ == "__main__":
    sys.exit(main())
