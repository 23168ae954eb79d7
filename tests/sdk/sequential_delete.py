"""The baseline of the apply benchmark: a straightforward sequential script with the official
Huawei Cloud Python SDK, deleting work items 100 ids per call, one call after the other.

This is what a person would write without reqprune. `benches/apply.rs` runs it against the
sandbox in the same run as reqprune and compares wall times. Run it with the SDK's virtual
environment (`tests/sdk/venv.sh` prints its python):

    python sequential_delete.py ENDPOINT PROJECT_ID FROM TO

AK and SK come from the environment (CLOUD_SDK_AK, CLOUD_SDK_SK). Prints one JSON line:
{"calls": n, "ids": n, "errors": n, "seconds": s}.
"""

import json
import os
import sys
import time

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions import exceptions
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkprojectman.v4 import (
    BatchDeleteIssuesRequestV4,
    BatchDeleteIssuesV4Request,
    ProjectManClient,
)


def main():
    endpoint, project_id, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    credentials = BasicCredentials(os.environ["CLOUD_SDK_AK"], os.environ["CLOUD_SDK_SK"])
    client = (
        ProjectManClient.new_builder()
        .with_http_config(HttpConfig.get_default_config())
        .with_credentials(credentials)
        .with_endpoints([endpoint])
        .build()
    )
    ids = list(range(first, last + 1))
    calls = errors = 0
    start = time.monotonic()
    for offset in range(0, len(ids), 100):
        batch = ids[offset : offset + 100]
        request = BatchDeleteIssuesV4Request(
            project_id=project_id, body=BatchDeleteIssuesRequestV4(issue_ids=batch)
        )
        calls += 1
        try:
            client.batch_delete_issues_v4(request)
        except exceptions.ClientRequestException:
            errors += 1
    seconds = time.monotonic() - start
    print(json.dumps({"calls": calls, "ids": len(ids), "errors": errors, "seconds": seconds}))


if __name__ == "__main__":
    main()
