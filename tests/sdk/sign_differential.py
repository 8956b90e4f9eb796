"""Sign requests with the official Huawei Cloud Python SDK signer.

The Rust differential test (crates/hwcloud/tests/sign_differential.rs) feeds this script
one JSON object per line on standard input:

    {"method": "GET", "host": "iam.myhuaweicloud.com", "path": "/v3/a%20b",
     "query": [["name", "decoded value"], ...], "headers": {"X-Sdk-Date": "..."},
     "body_hex": "7b7d", "ak": "...", "sk": "..."}

`path` is the path as sent on the wire; query names and values are decoded. For each line
the script prints the Authorization header value that huaweicloudsdkcore's `Signer`
computes, and nothing else, so no secret key reaches the output.
"""

import json
import sys

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer


def sign(case):
    request = SdkRequest(
        method=case["method"],
        schema="https",
        host=case["host"],
        resource_path=case["path"],
        query_params=[(name, value) for name, value in case["query"]],
        header_params=dict(case["headers"]),
        body=bytes.fromhex(case["body_hex"]),
    )
    signer = Signer(BasicCredentials(case["ak"], case["sk"]))
    return signer.sign(request).header_params["Authorization"]


def main():
    for line in sys.stdin:
        if line.strip():
            print(sign(json.loads(line)))


if __name__ == "__main__":
    main()
