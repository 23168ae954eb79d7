"""Drive a reqprune sandbox with the official Huawei Cloud Python SDK (huaweicloudsdkprojectman).

Usage: conformance.py BASE_URL PROJECT_ID AK SK

Run by tests/sdk_conformance.rs against a sandbox on 127.0.0.1 whose project PROJECT_ID holds
items 1-250 and which accepts AK:SK. Prints one JSON object with what the SDK saw; the Rust test
checks it against the sandbox's own record. Any unexpected exception fails the script.
"""

import json
import sys

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkprojectman.v4 import (
    BatchDeleteIssuesRequestV4,
    BatchDeleteIssuesV4Request,
    ListIssueRequestV4,
    ListIssuesV4Request,
)
from huaweicloudsdkprojectman.v4 import ProjectManClient


def client(base, ak, sk):
    # No with_region(): the endpoint is the sandbox, and no IAM lookup happens.
    return (
        ProjectManClient.new_builder()
        .with_http_config(HttpConfig.get_default_config())
        .with_credentials(BasicCredentials(ak, sk))
        .with_endpoints([base])
        .build()
    )


def delete(c, project, ids):
    return c.batch_delete_issues_v4(
        BatchDeleteIssuesV4Request(project_id=project, body=BatchDeleteIssuesRequestV4(issue_ids=ids))
    )


def failure(call):
    """Run call; return what the SDK's exception carries (or None when it succeeded)."""
    try:
        call()
    except ClientRequestException as e:
        return {
            "status_code": e.status_code,
            "error_code": e.error_code,
            "error_msg": e.error_msg,
            "request_id": e.request_id,
        }
    return None


def main():
    base, project, ak, sk = sys.argv[1:5]
    good = client(base, ak, sk)
    out = {}

    response = delete(good, project, list(range(1, 101)))
    out["batch_delete"] = {"status_code": response.status_code}

    wrong = client(base, ak, sk + "-wrong")
    out["wrong_sk"] = failure(lambda: delete(wrong, project, [101]))

    unknown = "f" * 32
    out["unknown_project"] = failure(lambda: delete(good, unknown, [101]))
    out["missing_ids"] = failure(lambda: delete(good, project, [1, 101]))

    ids, totals, offset, limit = [], [], 0, 40
    while True:
        page = good.list_issues_v4(
            ListIssuesV4Request(project_id=project, body=ListIssueRequestV4(offset=offset, limit=limit))
        )
        totals.append(page.total)
        ids.extend(issue.id for issue in page.issues)
        if not page.issues or offset + limit >= page.total:
            break
        offset += limit
    out["paging"] = {"ids": ids, "totals": totals, "pages": len(totals)}

    bugs = good.list_issues_v4(
        ListIssuesV4Request(project_id=project, body=ListIssueRequestV4(offset=0, limit=100, tracker_ids=[3]))
    )
    out["bugs"] = {
        "total": bugs.total,
        "trackers": sorted({issue.tracker.id for issue in bugs.issues}),
        "first": bugs.issues[0].to_dict() if bugs.issues else None,
    }
    out["bad_paging"] = failure(
        lambda: good.list_issues_v4(
            ListIssuesV4Request(project_id=project, body=ListIssueRequestV4(offset=5, limit=10))
        )
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
