#!/usr/bin/env python3
"""The mmbatch-cdk app: `cdk deploy -c backend=efs|juicefs -c key=value ...` (settings: docs/reference/settings.md)."""

import gc
import sys

if __name__ == "__main__":
    # Importing aws-cdk-lib's modules creates some 135,000 objects and no garbage: Python's cyclic collector
    # would run 335 times over them while they load, and again over all of them at exit. Frozen after the
    # imports, they are never scanned; objects made while building the app are collected as usual.
    # (bench/phases.py; docs: performance, "Where the time goes".)
    gc.disable()
    from mmbatch_cdk.application import main

    gc.freeze()
    gc.enable()
    code = main()
    gc.freeze()  # the app's objects live until exit anyway: no collection over them at interpreter exit
    sys.exit(code)
