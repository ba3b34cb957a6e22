#!/usr/bin/env python3
"""The mmbatch-cdk app: `cdk deploy -c backend=efs|juicefs -c key=value ...` (settings: docs/reference/settings.md).

cdk.json runs it as `python -O app.py`: jsii's generated bindings check every argument of every aws-cdk-lib call
against its type hints at run time (typeguard, under `if __debug__:`), about a tenth of a synth; -O skips those
checks. This package's calls are checked statically instead (`mypy --strict`), and its asserts only narrow types.
-O also drops jsii's own asserts, among them the check that its Node runtime is the version it expects
(jsii/_kernel/providers/process.py); that runtime ships inside the same jsii package, so the two agree unless
JSII_RUNTIME points at another.
"""

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
