#!/usr/bin/env python3
"""The mmbatch-cdk app: `cdk deploy -c backend=efs|juicefs -c key=value ...` (settings: docs/reference/settings.md)."""

import sys

if __name__ == "__main__":
    from mmbatch_cdk.application import main

    sys.exit(main())
