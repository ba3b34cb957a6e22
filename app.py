#!/usr/bin/env python3
"""The mmbatch-cdk app: `cdk deploy -c backend=efs|juicefs -c key=value ...` (settings: docs/reference/settings.md)."""

import gc
import sys

if __name__ == "__main__":
    # Importing aws-cdk-lib's modules (main does, while jsii's Node builds the validation engine) creates some
    # 135,000 objects and no garbage: Python's cyclic collector would run 335 times over them while they load, and
    # again over all of them at exit. A synth is one short process whose objects live until it ends, so the
    # collector stays off throughout and what it made is frozen before exit (no scan at interpreter exit).
    # (bench/phases.py; docs: performance, "Where the time goes".)
    gc.disable()
    from mmbatch_cdk.application import main

    code = main()
    gc.freeze()
    sys.exit(code)
